#if canImport(Glibc)
import Glibc
#endif

/// A failed system call on one path of the source or restore target.
public struct FileSystemError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: RawPath
    public let errno: Int32

    public init(_ operation: String, _ path: RawPath, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}
