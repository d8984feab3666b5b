import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An open directory, and the system calls relative to it that backup and restore make
/// instead of resolving full paths.
///
/// A full path is looked up again at every call, so whoever can write in a directory on it
/// can swap a component for a symlink between a check and a use, and send a root process's
/// reads or writes anywhere. Relative to an open directory, with `O_NOFOLLOW` on the last
/// component, a call reaches an entry of that very directory or fails. The walks share a
/// handle between the entries and file jobs of one directory; the descriptor closes when
/// the last of them lets go, so a walk holds about one per level of depth plus one per file
/// being read or written.
///
/// Immutable after `init` (the descriptor is only read), hence `Sendable`.
final class DirectoryHandle: Sendable {
    let fd: Int32
    /// The directory's path, for messages and for what needs a path.
    let path: RawPath

    private init(fd: Int32, path: RawPath) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Opens a directory named by the operator (a backed-up path's parents, a restore
    /// target): symlinks on the way are followed, as the operator meant them.
    static func open(_ path: RawPath) throws -> DirectoryHandle {
        let fd = path.withCString { Glibc.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw FileSystemError("open", path, errno: errno) }
        return DirectoryHandle(fd: fd, path: path)
    }

    /// Opens the subdirectory `name`; unless `followingLinks`, a symlink there fails with
    /// `ELOOP` or `ENOTDIR` instead of being followed.
    func openDirectory(_ name: [UInt8], followingLinks: Bool = false) throws -> DirectoryHandle {
        let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW)
        let fd = Self.withName(name) { openat(self.fd, $0, flags) }
        guard fd >= 0 else { throw FileSystemError("open", path.appending(name), errno: errno) }
        return DirectoryHandle(fd: fd, path: path.appending(name))
    }

    /// `openat` of `name` in this directory; returns the descriptor or -errno.
    func openEntry(_ name: [UInt8], flags: Int32, mode: mode_t = 0) -> Int32 {
        let fd = Self.withName(name) { openat(self.fd, $0, flags | O_CLOEXEC, mode) }
        return fd >= 0 ? fd : -errno
    }

    /// The directory's own status.
    func status() throws -> FileStatus {
        try FileStatus.fstat(fd, path: path)
    }

    /// The status of the entry `name`, not following a symlink.
    func status(of name: [UInt8]) throws -> FileStatus {
        var st = stat()
        guard Self.withName(name, { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw FileSystemError("lstat", path.appending(name), errno: errno)
        }
        return FileStatus(st)
    }

    /// The names in the directory (without `.` and `..`), sorted by their bytes.
    func entries() throws -> [[UInt8]] {
        // fdopendir takes over the descriptor it is given: give it a copy, from the start.
        let copy = dup(fd)
        guard copy >= 0 else { throw FileSystemError("dup", path, errno: errno) }
        guard let dir = fdopendir(copy) else {
            let e = errno
            close(copy)
            throw FileSystemError("opendir", path, errno: e)
        }
        defer { closedir(dir) }
        rewinddir(dir)
        return try Directory.names(in: dir, path: path)
    }

    /// The target of the symlink `name`.
    func linkTarget(of name: [UInt8]) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = Self.withName(name) { p in
            buffer.withUnsafeMutableBufferPointer { readlinkat(fd, p, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        }
        guard n >= 0 else { throw FileSystemError("readlink", path.appending(name), errno: errno) }
        return Array(buffer[0..<n])
    }

    /// The extended attributes of the entry `name`, not following a symlink (see
    /// ``Directory``).
    func extendedAttributes(of name: [UInt8]) throws -> [ExtendedAttribute] {
        try Directory.extendedAttributes(of: entryPath(name), shownAs: path.appending(name))
    }

    /// A path that reaches the entry `name` of this very directory: through
    /// `/proc/self/fd`, which names the open directory, not a lookup of its path. For the
    /// calls that have no `*at` form (`lgetxattr`, `lsetxattr`); without `/proc` mounted,
    /// the directory's path.
    func entryPath(_ name: [UInt8]) -> RawPath {
        (Self.hasProcFD ? RawPath("/proc/self/fd/\(fd)") : path).appending(name)
    }

    private static let hasProcFD = access("/proc/self/fd", X_OK) == 0

    /// Calls `body` with `name` as a NUL-terminated C string.
    static func withName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var z = name
        z.append(0)
        return try z.withUnsafeBufferPointer { try $0.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) } }
    }
}
