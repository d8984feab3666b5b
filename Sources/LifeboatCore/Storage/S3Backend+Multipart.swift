@preconcurrency import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// Objects above `multipartThresholdBytes` go up in parts of `partBytes`, each with its
/// own SHA-256 checksum, so a damaged part is refused alone; a failed upload is aborted.
extension S3Backend {
    func writeMultipart(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        let objectKey = key(name)
        let created = try await send(
            .POST, key: objectKey, query: [("uploads", "")], headers: [("x-amz-checksum-algorithm", "SHA256")] + lockHeaders(),
            what: "start upload of \(name)")
        guard created.status == .ok, let uploadID = S3XML.element("UploadId", in: created.body) else {
            throw failure(created, name, what: "start upload of \(name)")
        }
        do {
            var parts: [(Int, String)] = []
            var number = 1
            for start in stride(from: 0, to: bytes.count, by: configuration.partBytes) {
                let part = Array(bytes[start..<min(bytes.count, start + configuration.partBytes)])
                let r = try await send(
                    .PUT, key: objectKey, query: [("partNumber", "\(number)"), ("uploadId", uploadID)],
                    headers: [("x-amz-checksum-sha256", Data(SHA256.hash(data: part)).base64EncodedString()), ("content-length", "\(part.count)")]
                        + lockedUploadMD5(part),
                    body: part, what: "upload part \(number) of \(name)")
                guard r.status == .ok, let etag = r.headers.first(name: "etag") else { throw failure(r, name, what: "upload part \(number) of \(name)") }
                parts.append((number, etag))
                number += 1
            }
            let xml = "<CompleteMultipartUpload>" + parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\($0.1)</ETag></Part>" }.joined()
                + "</CompleteMultipartUpload>"
            // The condition goes on the completion: that is when the object would appear.
            let done = try await send(
                .POST, key: objectKey, query: [("uploadId", uploadID)], headers: Self.conditionHeaders(overwrite: overwrite), body: Array(xml.utf8),
                what: "complete upload of \(name)")
            // S3 can answer 200 with an error document inside.
            guard done.status == .ok, S3XML.errorCode(done.body) == nil else { throw failure(done, name, what: "complete upload of \(name)") }
        } catch {
            // Leave no half upload to be billed for; the original error is the one that matters.
            _ = try? await send(.DELETE, key: objectKey, query: [("uploadId", uploadID)], what: "abort upload of \(name)")
            throw error
        }
    }
}
