import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Who asks for an operation, as snapshots, locks and the BackupLog record it.
public struct Requester: Sendable, Equatable {
    public var host: String
    public var username: String

    /// A requester named explicitly (an API caller, a test).
    public init(host: String, username: String) {
        self.host = host
        self.username = username
    }

    /// This process's host and effective user, looked up once: neither changes while it runs.
    public static let current: Requester = {
        var buffer = [UInt8](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0 ? String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self) : "localhost"
        return Requester(host: host, username: userName(of: geteuid()) ?? "\(geteuid())")
    }()

    /// The user's name, with the reentrant lookup: getpwuid's static buffer is shared by
    /// every thread of a daemon.
    static func userName(of uid: uid_t) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        // The entry's strings point into `buffer`: read them while it is still lent out.
        return buffer.withUnsafeMutableBufferPointer { storage -> String? in
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            guard let base = storage.baseAddress, getpwuid_r(uid, &entry, base, storage.count, &result) == 0, result != nil, let name = entry.pw_name else {
                return nil
            }
            return String(validatingCString: name)
        }
    }
}
