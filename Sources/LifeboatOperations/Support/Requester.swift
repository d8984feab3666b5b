import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Who asks for an operation, as snapshots, locks and the BackupLog record it.
public struct Requester: Sendable, Equatable {
    public var host: String
    public var username: String

    public init(host: String, username: String) {
        self.host = host
        self.username = username
    }

    /// This process's host and effective user.
    public static var current: Requester {
        var buffer = [UInt8](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0 ? String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self) : "localhost"
        var username = "\(geteuid())"
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { username = String(cString: name) }
        return Requester(host: host, username: username)
    }
}
