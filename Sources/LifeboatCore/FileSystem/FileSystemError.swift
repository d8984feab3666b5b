#if canImport(Glibc)
import Glibc
#endif

/// A failed system call on one path of the source or restore target.
public struct FileSystemError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: RawPath
    /// 0 when the failure is no system call's (see `reason`).
    public let errno: Int32
    /// What went wrong when no system call failed (a file replaced behind the walk's back).
    public let reason: String?

    public init(_ operation: String, _ path: RawPath, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
        reason = nil
    }

    public init(_ operation: String, _ path: RawPath, reason: String) {
        self.operation = operation
        self.path = path
        self.errno = 0
        self.reason = reason
    }

    public var description: String {
        if let reason { return "\(path): \(reason)" }
        return "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}
