import Foundation
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// A tmpfs of a few MiB mounted at a folder (root only), to run out of space on purpose:
/// ``fill()`` takes every free byte, ``free()`` gives them back. Unmounted when released.
public final class SmallFileSystem: @unchecked Sendable {
    // @unchecked Sendable: `path` is immutable; the mount is undone once, in deinit.
    public let path: String
    private var filler: String { path + "/.filler" }

    /// Mounts a tmpfs of `sizeMiB` at `path` (made if missing).
    public init(at path: String, sizeMiB: Int) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let out = try Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(sizeMiB)m,mode=0755", "tmpfs", path])
        guard out.status == 0 else { throw FileSystemError("mount tmpfs", RawPath(path), errno: EPERM) }
    }

    deinit {
        _ = try? Shell.run("/bin/umount", ["-l", path])  // a mount left behind harms no other test
    }

    /// Writes a hidden file until the file system has no byte left but `leavingBytes`.
    public func fill(leavingBytes: Int = 0) throws {
        let fd = open(filler, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSystemError("open", RawPath(filler), errno: errno) }
        defer { close(fd) }
        let block = [UInt8](repeating: 0xA5, count: 64 << 10)
        // Large blocks, then single bytes, so that not even a small object fits afterwards.
        for size in [block.count, 4096, 1] {
            while true {
                let n = block.withUnsafeBytes { write(fd, $0.baseAddress, size) }
                if n > 0 { continue }
                guard n < 0, errno == ENOSPC else { throw FileSystemError("write", RawPath(filler), errno: n < 0 ? errno : EIO) }
                break
            }
        }
        let size = lseek(fd, 0, SEEK_END)
        guard ftruncate(fd, max(0, size - off_t(leavingBytes))) == 0 else { throw FileSystemError("ftruncate", RawPath(filler), errno: errno) }
    }

    /// Removes what ``fill()`` wrote. Truncated before it is unlinked: a child that another
    /// test forked at the wrong instant may hold the file open until it executes its program,
    /// and an unlinked file keeps its blocks while it is open.
    public func free() throws {
        guard truncate(filler, 0) == 0 || errno == ENOENT else { throw FileSystemError("truncate", RawPath(filler), errno: errno) }
        guard unlink(filler) == 0 || errno == ENOENT else { throw FileSystemError("unlink", RawPath(filler), errno: errno) }
    }
}
