@preconcurrency import Crypto
import Foundation
import NIOHTTP1

/// S3 Object Lock for immutable copies: each object cannot be deleted or overwritten
/// (COMPLIANCE: by anyone; GOVERNANCE: without a special permission) until `period`
/// after it was written.
public struct ObjectLock: Sendable, Equatable {
    /// Who may lift the lock before it expires.
    public enum Mode: String, Sendable, CaseIterable {
        /// Users with `s3:BypassGovernanceRetention` may.
        case governance = "GOVERNANCE"
        /// Nobody may, not even the account's root user.
        case compliance = "COMPLIANCE"
    }
    /// The lock's mode.
    public var mode: Mode
    /// How long each object stays locked after it is written.
    public var period: Duration

    /// A lock of `mode` for `period` from each write.
    public init(mode: Mode, period: Duration) {
        self.mode = mode
        self.period = period
    }
}

/// Object Lock on writes: the retention headers go on every upload (and on a multipart
/// upload's start), with the Content-MD5 S3 demands for locked uploads.
extension S3Backend {
    func lockHeaders() -> [(String, String)] {
        guard let lock = configuration.objectLock else { return [] }
        let until = Date().addingTimeInterval(lock.period.seconds)
        return [("x-amz-object-lock-mode", lock.mode.rawValue), ("x-amz-object-lock-retain-until-date", ISO8601.format(until))]
    }

    /// S3 demands Content-MD5 on uploads under Object Lock (a SHA-256 checksum is not enough).
    func lockedUploadMD5(_ bytes: [UInt8]) -> [(String, String)] {
        guard configuration.objectLock != nil else { return [] }
        return [("content-md5", Data(Insecure.MD5.hash(data: bytes)).base64EncodedString())]
    }

    /// An object's Object Lock retention, from the headers of a HEAD (which S3 sends to
    /// whoever may read the retention), or nil when it has none.
    public func retention(of name: ObjectName) async throws -> (mode: String, retainUntil: Date)? {
        let r = try await send(.HEAD, key: key(name), what: "HEAD \(name)")
        guard r.status == .ok else { throw failure(r, name, what: "HEAD \(name)") }
        guard let mode = r.headers.first(name: "x-amz-object-lock-mode"),
            let until = r.headers.first(name: "x-amz-object-lock-retain-until-date").flatMap(Self.parseDate)
        else { return nil }
        return (mode, until)
    }

    /// S3 writes dates as ISO 8601, with or without fractional seconds.
    static func parseDate(_ text: String) -> Date? {
        ISO8601.parse(text) ?? ISO8601.parse(text.replacingOccurrences(of: "+00:00", with: "Z"))
    }
}
