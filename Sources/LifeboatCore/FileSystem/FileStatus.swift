#if canImport(Glibc)
import Glibc
#endif

/// The result of `lstat`, in the units the tree records.
public struct FileStatus: Sendable, Equatable {
    public var type: NodeType
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var sizeBytes: UInt64
    public var mtime: FileTime
    public var ctime: FileTime
    public var inode: UInt64
    public var device: UInt64
    public var linkCount: UInt64
    public var deviceNumber: UInt64
    /// Bytes actually allocated: far below `sizeBytes` for a sparse file.
    public var allocatedBytes: UInt64

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFDIR: type = .directory
        case S_IFLNK: type = .symlink
        case S_IFIFO: type = .fifo
        case S_IFSOCK: type = .socket
        case S_IFCHR: type = .characterDevice
        case S_IFBLK: type = .blockDevice
        default: type = .file
        }
        mode = UInt32(st.st_mode) & 0o7777
        uid = st.st_uid
        gid = st.st_gid
        sizeBytes = UInt64(max(0, st.st_size))
        mtime = FileTime(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int64(st.st_mtim.tv_nsec))
        ctime = FileTime(seconds: Int64(st.st_ctim.tv_sec), nanoseconds: Int64(st.st_ctim.tv_nsec))
        inode = UInt64(st.st_ino)
        device = UInt64(st.st_dev)
        linkCount = UInt64(st.st_nlink)
        deviceNumber = UInt64(st.st_rdev)
        // Saturated: a filesystem reporting nonsense must not trap the walk.
        allocatedBytes = min(UInt64(max(0, st.st_blocks)), UInt64.max / 512) * 512
    }

    public static func lstat(_ path: RawPath) throws -> FileStatus {
        var st = stat()
        let r = path.withCString { Glibc.lstat($0, &st) }
        guard r == 0 else { throw FileSystemError("lstat", path, errno: errno) }
        return FileStatus(st)
    }

    public static func fstat(_ fd: Int32, path: RawPath) throws -> FileStatus {
        var st = stat()
        guard Glibc.fstat(fd, &st) == 0 else { throw FileSystemError("fstat", path, errno: errno) }
        return FileStatus(st)
    }

    /// Whether the file's content may have changed between two looks at it.
    func differsInContent(from other: FileStatus) -> Bool {
        sizeBytes != other.sizeBytes || mtime != other.mtime || ctime != other.ctime || inode != other.inode
    }
}
