import CLinux
import Foundation
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// Builds test trees with the system calls themselves, so names may be any bytes.
public enum FileTree {
    public static func write(_ path: String, _ bytes: [UInt8]) throws {
        try write(RawPath(path), bytes)
    }

    public static func write(_ path: RawPath, _ bytes: [UInt8]) throws {
        let fd = path.withCString { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        guard fd >= 0 else { throw FileSystemError("open", path, errno: errno) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            guard n > 0 else { throw FileSystemError("write", path, errno: errno) }
            done += n
        }
    }

    public static func append(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_APPEND)
        guard fd >= 0 else { throw FileSystemError("open", RawPath(path), errno: errno) }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw FileSystemError("write", RawPath(path), errno: n < 0 ? errno : EIO) }
    }

    public static func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public static func symlink(_ target: String, at path: String) throws {
        guard Glibc.symlink(target, path) == 0 else { throw FileSystemError("symlink", RawPath(path), errno: errno) }
    }

    public static func hardlink(_ existing: String, at path: String) throws {
        guard link(existing, path) == 0 else { throw FileSystemError("link", RawPath(path), errno: errno) }
    }

    public static func fifo(_ path: String) throws {
        guard mkfifo(path, 0o640) == 0 else { throw FileSystemError("mkfifo", RawPath(path), errno: errno) }
    }

    public static func setXattr(_ path: String, _ name: String, _ value: [UInt8]) throws {
        let r = value.withUnsafeBytes { lsetxattr(path, name, $0.baseAddress, $0.count, 0) }
        guard r == 0 else { throw FileSystemError("lsetxattr", RawPath(path), errno: errno) }
    }

    public static func setMtime(_ path: String, seconds: Int, nanoseconds: Int) throws {
        try setMtime(RawPath(path), seconds: seconds, nanoseconds: nanoseconds)
    }

    public static func setMtime(_ path: RawPath, seconds: Int, nanoseconds: Int) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
        let r = path.withCString { utimensat(AT_FDCWD, $0, &times, AT_SYMLINK_NOFOLLOW) }
        guard r == 0 else { throw FileSystemError("utimensat", path, errno: errno) }
    }

    public static func chmod(_ path: String, _ mode: UInt32) throws {
        guard Glibc.chmod(path, mode_t(mode)) == 0 else { throw FileSystemError("chmod", RawPath(path), errno: errno) }
    }

    public static func chown(_ path: String, uid: UInt32, gid: UInt32) throws {
        guard lchown(path, uid, gid) == 0 else { throw FileSystemError("lchown", RawPath(path), errno: errno) }
    }

    /// A sparse file: `size` bytes with `data` written at each offset and holes between.
    public static func sparse(_ path: String, size: Int, data: [(offset: Int, bytes: [UInt8])]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FileSystemError("open", RawPath(path), errno: errno) }
        defer { close(fd) }
        for (offset, bytes) in data {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard n == bytes.count else { throw FileSystemError("pwrite", RawPath(path), errno: n < 0 ? errno : EIO) }
        }
        guard ftruncate(fd, off_t(size)) == 0 else { throw FileSystemError("ftruncate", RawPath(path), errno: errno) }
    }

    public static var isRoot: Bool { geteuid() == 0 }
}

/// Runs a program and collects its output (``ChildProcess``: default signal handling in
/// the child, output in memory files, no SIGCHLD handler).
public enum Shell {
    public typealias Output = ChildProcess.Output

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Output {
        // Test programs see the test's environment (the S3 endpoint, the PostgreSQL programs).
        try ChildProcess.run([executable] + arguments, environment: environment ?? ProcessInfo.processInfo.environment)
    }
}
