import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("S3Signer")
struct S3SignerTests {
    static let referenceScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Support/sigv4_reference.py").path

    @Test(
        "signatures equal botocore's for 300 generated requests (keys with spaces, unicode, +, =, /; empty and repeated query values; ranges; bodies) (seed 7)",
        .enabled(if: S3TestServer.hasBotocore, "botocore (from PyPI's boto3) is needed as the reference"))
    func differential() throws {
        var rng = SeededBytes(seed: 7)
        let pieces = ["data", "a b", "ünï/cødé", "x+y", "k=v", "dir/sub/file", "~tilde", "per%cent", "Ω", "semi;colon", "a&b", "", "star*", "日本"]
        let methods = ["GET", "PUT", "HEAD", "DELETE", "POST"]
        let names = ["prefix", "list-type", "uploadId", "partNumber", "continuation-token", "max-keys"]
        let regions = ["us-east-1", "eu-west-3"]
        var requests: [Request] = []
        var signed: [String] = []
        let date = Date(timeIntervalSince1970: 1_767_225_600 + Double(rng.next() % 10_000_000))
        for i in 0..<300 {
            let method = methods[Int(rng.next() % UInt64(methods.count))]
            let path = "/bucket-\(i % 3)/" + (0..<Int(1 + rng.next() % 3)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined(separator: "/")
            var query: [(String, String)] = []
            for _ in 0..<Int(rng.next() % 4) {
                let name = names[Int(rng.next() % UInt64(names.count))]
                let value = pieces[Int(rng.next() % UInt64(pieces.count))]
                query.append((name, value))
            }
            if rng.next() % 4 == 0 { query.append(("uploads", "")) }
            var headers: [(String, String)] = [("host", "127.0.0.1:9000")]
            if rng.next() % 2 == 0 { headers.append(("range", "bytes=\(rng.next() % 1000)-\(1000 + rng.next() % 1000)")) }
            if rng.next() % 3 == 0 { headers.append(("x-amz-checksum-sha256", "  abc   def ")) }
            let body = rng.bytes(Int(rng.next() % 3) == 0 ? Int(rng.next() % 70_000) : 0)
            let payload = S3Signer.hex(Digest256.sha256(body).bytes)
            let token = rng.next() % 2 == 0 ? "token/with+chars=" : nil
            let signer = S3Signer(credentials: .init(accessKeyID: "AKID\(i)", secretAccessKey: "secret/\(i)+x", sessionToken: token), region: regions[Int(rng.next() % 2)])
            let out = signer.sign(method: method, path: path, query: query, headers: headers, payloadSHA256: payload, date: date)
            signed.append(out.first { $0.0 == "Authorization" }!.1)
            requests.append(
                Request(
                    method: method, host: "127.0.0.1:9000", path: path, query: query.map { [$0.0, $0.1] },
                    headers: headers.filter { $0.0 != "host" }.map { [$0.0, $0.1] }, body_hex: body.map { String(format: "%02x", $0) }.joined(),
                    amz_date: S3Signer.timestamps(date).0, region: signer.region, access_key: "AKID\(i)", secret_key: "secret/\(i)+x",
                    token: token ?? ""))
        }
        let input = NSTemporaryDirectory() + "sigv4-\(UUID().uuidString).json"
        try JSONEncoder().encode(requests).write(to: URL(fileURLWithPath: input))
        defer { try? FileManager.default.removeItem(atPath: input) }  // scratch input
        let out = try Shell.run("/bin/sh", ["-c", "python3 '\(Self.referenceScript)' < '\(input)'"])
        #expect(out.status == 0, "\(out.stderr)")
        let reference = out.stdout.split(separator: "\n").map(String.init)
        #expect(reference.count == signed.count)
        var mismatches = 0
        for i in 0..<min(signed.count, reference.count) where signed[i] != reference[i] {
            mismatches += 1
            if mismatches <= 5 {
                Issue.record("request \(i) (\(requests[i].method) \(requests[i].path) \(requests[i].query)): ours \(signed[i]) botocore \(reference[i])")
            }
        }
        #expect(mismatches == 0)
    }

    struct Request: Encodable {
        let method: String
        let host: String
        let path: String
        let query: [[String]]
        let headers: [[String]]
        let body_hex: String
        let amz_date: String
        let region: String
        let access_key: String
        let secret_key: String
        let token: String
    }
}
