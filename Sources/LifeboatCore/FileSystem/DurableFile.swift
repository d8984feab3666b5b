#if canImport(Glibc)
import Glibc
#endif

/// The durable-write primitives every writer of local files shares: the local storage
/// backends, `wal fetch` and the database restorers. Each returns `errno` rather than
/// throwing, so that the caller maps it to its own folder's error (``StorageError`` for a
/// location, ``FileSystemError`` for a path).
enum DurableFile {
    /// Writes all of `p` at `offset`, going on after short writes and `EINTR`; returns
    /// `errno` on failure. Durability still needs an `fsync` of the file afterwards.
    static func writeAll(_ fd: Int32, _ p: UnsafeRawBufferPointer, at offset: Int) -> Int32? {
        var done = 0
        while done < p.count {
            let n = pwrite(fd, p.baseAddress! + done, p.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += n
        }
        return nil
    }

    /// Fsyncs a folder, so that a name created, renamed or removed in it survives a crash;
    /// returns `errno` on failure. Filesystems that cannot sync a folder (`EINVAL`) count as done.
    static func syncFolder(_ folder: String) -> Int32? {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL { return errno }
        return nil
    }
}
