import Crypto
import Foundation
import LifeboatAPI
import Testing

/// The generated code (Sources/LifeboatAPI) comes from docs/openapi.yaml as it is: a change
/// to the document without `scripts/generate-api` fails here.
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("every generated file records the SHA-256 of docs/openapi.yaml as it is")
    func generatedFromDocument() throws {
        let document = try Data(contentsOf: Self.root.appendingPathComponent("docs/openapi.yaml"))
        let hash = SHA256.hash(data: document).map { String(format: "%02x", $0) }.joined()
        #expect(OpenAPIDocument.sha256 == hash, "docs/openapi.yaml changed: run scripts/generate-api")
        #expect(OpenAPIDocument.yaml + "\n" == String(decoding: document, as: UTF8.self), "docs/openapi.yaml changed: run scripts/generate-api")
        let folder = Self.root.appendingPathComponent("Sources/LifeboatAPI")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 2)
        for file in files {
            let first = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).prefix { $0 != "\n" }
            #expect(first.contains("sha256:\(hash)"), "\(file) was not generated from docs/openapi.yaml as it is: run scripts/generate-api")
        }
    }
}
