@preconcurrency import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests (header-based signing).
///
/// The canonical request is: method, URI-encoded path (each segment encoded, `/` kept),
/// query parameters sorted by encoded name then value, lower-cased header names with
/// trimmed values sorted by name, the signed header list and the payload's SHA-256 (hex).
/// The signing key is HMAC-SHA256 chained over "AWS4" + secret, the date, the region,
/// "s3" and "aws4_request". Checked against botocore's signer in the tests.
public struct S3Signer: Sendable {
    public struct Credentials: Sendable {
        public let accessKeyID: String
        public let secretAccessKey: String
        public let sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    public let credentials: Credentials
    public let region: String
    public let service = "s3"

    public init(credentials: Credentials, region: String) {
        self.credentials = credentials
        self.region = region
    }

    /// Headers to add to a request: `x-amz-date`, `x-amz-content-sha256`, the session token
    /// when there is one, and `Authorization`.
    /// - Parameters:
    ///   - path: the request path, not yet encoded (`/bucket/key with spaces`).
    ///   - query: the query parameters, not yet encoded.
    ///   - headers: headers to sign besides those added here (`host` is required).
    ///   - payloadSHA256: hex SHA-256 of the body.
    public func sign(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadSHA256: String, date: Date
    ) -> [(String, String)] {
        let (amzDate, day) = Self.timestamps(date)
        var all = headers.map { ($0.0.lowercased(), Self.trim($0.1)) }
        all.append(("x-amz-date", amzDate))
        all.append(("x-amz-content-sha256", payloadSHA256))
        if let token = credentials.sessionToken { all.append(("x-amz-security-token", token)) }
        all.sort { $0.0 < $1.0 }
        let signedHeaders = all.map(\.0).joined(separator: ";")
        let canonicalRequest = [
            method,
            Self.encodePath(path),
            Self.canonicalQuery(query),
            all.map { "\($0.0):\($0.1)\n" }.joined(),
            signedHeaders,
            payloadSHA256,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))))"
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        var out = all.filter { $0.0 == "x-amz-date" || $0.0 == "x-amz-content-sha256" || $0.0 == "x-amz-security-token" }
        out.append((
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        ))
        return out
    }

    static func timestamps(_ date: Date) -> (String, String) {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        let d = c.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", d.year!, d.month!, d.day!)
        return (day + String(format: "T%02d%02d%02dZ", d.hour!, d.minute!, d.second!), day)
    }

    /// RFC 3986 unreserved characters stay; everything else is %XX of its UTF-8 bytes.
    static func encode(_ s: String, keepSlash: Bool) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(b))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    static func encodePath(_ path: String) -> String { encode(path.isEmpty ? "/" : path, keepSlash: true) }

    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(String, String)] = query.map { (encode($0.0, keepSlash: false), encode($0.1, keepSlash: false)) }
        let sorted = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in a.0 == b.0 ? a.1 < b.1 : a.0 < b.0 }
        return sorted.map { (pair: (String, String)) -> String in pair.0 + "=" + pair.1 }.joined(separator: "&")
    }

    /// Header values are trimmed and inner runs of spaces collapse to one.
    static func trim(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
