import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A repository in a local directory: the PRIMARY location.
///
/// Writes go to a temporary file in the target folder, are fsynced, renamed into
/// place and the folder is fsynced, so a crash leaves either nothing or the whole
/// object under its name. Reads keep a small cache of open descriptors because a
/// restore reads many blobs from the same packs.
public final class LocalDirectoryBackend: StorageBackend {
    public let root: String
    public var locationDescription: String { root }
    private let openFiles = Mutex<[String: OpenFile]>([:])
    private let createdFolders = Mutex<Set<String>>([])
    private static let maxOpenFiles = 64

    /// - Throws: ``StorageError/locationNotFound(location:)`` unless `create` is set.
    public init(path: String, create: Bool = false) throws {
        var root = path
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
        var st = stat()
        if stat(root, &st) != 0 {
            guard create else { throw StorageError.locationNotFound(location: root) }
            try Self.makeDirectory(root, location: root)
        } else if st.st_mode & S_IFMT != S_IFDIR {
            throw StorageError.io("\(root) is not a directory", errno: ENOTDIR, location: root)
        }
    }

    private func fullPath(_ name: ObjectName) -> String { "\(root)/\(name.path)" }

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        let root = self.root
        let target = fullPath(name)
        let folder = String(target[..<target.lastIndex(of: "/")!])
        let known = createdFolders.withLock { $0.contains(folder) }
        if !known {
            try Self.ensureFolder(folder, root: root)
            createdFolders.withLock { _ = $0.insert(folder) }
        }
        try await BlockingIOQueue.run {
            try Self.writeAtomically(bytes, to: target, folder: folder, name: name, overwrite: overwrite, location: root)
        }
    }

    static func writeAtomically(
        _ bytes: [UInt8], to target: String, folder: String, name: ObjectName, overwrite: Bool, location: String
    ) throws {
        if !overwrite && access(target, F_OK) == 0 { throw StorageError.alreadyExists(name, location: location) }
        let tmp = "\(folder)/.tmp-\(Digest256.random().hex.prefix(16))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw mapErrno(errno, what: tmp, name: name, location: location) }
        var failure: StorageError?
        let error = bytes.withUnsafeBytes { p in
            p.count >= directWriteThreshold ? writeDirect(fd, p) : DurableFile.writeAll(fd, p, at: 0)
        }
        if let error { failure = mapErrno(error, what: tmp, name: name, location: location) }
        if failure == nil && fsync(fd) != 0 { failure = mapErrno(errno, what: tmp, name: name, location: location) }
        close(fd)
        if failure == nil {
            if overwrite {
                if rename(tmp, target) != 0 { failure = mapErrno(errno, what: target, name: name, location: location) }
            } else if link(tmp, target) != 0 {
                // link(2) instead of rename(2): it fails on an existing name, so two writers of
                // one name can never replace each other's object.
                failure = errno == EEXIST ? .alreadyExists(name, location: location) : mapErrno(errno, what: target, name: name, location: location)
            }
        }
        unlink(tmp)
        if let failure { throw failure }
        try fsyncFolder(folder, location: location)
    }

    /// Objects at least this large (packs) bypass the page cache.
    static let directWriteThreshold = 1 << 20
    private static let directStaging = RawBufferPool(byteCount: 1 << 20, keep: 4)

    /// Writes a large object with O_DIRECT: the block-aligned part from an aligned copy,
    /// the rest normally. Buffered writes followed by fsync ran at a fifth of the disk's
    /// speed here and cost a kernel copy of every byte; direct I/O does neither. Where
    /// the filesystem refuses O_DIRECT (tmpfs), it falls back to a buffered write.
    static func writeDirect(_ fd: Int32, _ p: UnsafeRawBufferPointer) -> Int32? {
        let block = 4096
        let aligned = p.count / block * block
        let flags = fcntl(fd, F_GETFL)
        guard fcntl(fd, F_SETFL, flags | O_DIRECT) == 0 else { return DurableFile.writeAll(fd, p, at: 0) }
        // Staged through one aligned 1 MiB buffer: direct I/O needs aligned memory, and a
        // staging copy of the whole pack would cost as much memory as the pack.
        let staging = directStaging.take()
        defer { directStaging.give(staging) }
        let buffer = staging.pointer
        var result: Int32?
        var offset = 0
        while offset < aligned, result == nil {
            let n = min(buffer.count, aligned - offset)
            buffer.baseAddress!.copyMemory(from: p.baseAddress! + offset, byteCount: n)
            result = DurableFile.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), at: offset)
            offset += n
        }
        _ = fcntl(fd, F_SETFL, flags)
        if result == EINVAL {
            return DurableFile.writeAll(fd, p, at: 0)
        }
        if result == nil && aligned < p.count {
            result = DurableFile.writeAll(fd, UnsafeRawBufferPointer(rebasing: p[aligned...]), at: aligned)
        }
        return result
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] {
        let file = try openFile(name)
        var st = stat()
        guard fstat(file.fd, &st) == 0 else { throw Self.mapErrno(errno, what: fullPath(name), name: name, location: root) }
        return try readRange(file, name: name, offset: 0, length: Int(st.st_size))
    }

    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        try readRange(try openFile(name), name: name, offset: offset, length: length)
    }

    private func readRange(_ file: OpenFile, name: ObjectName, offset: Int, length: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var failure: Int32 = 0
        var done = 0
        out.withUnsafeMutableBytes { p in
            while done < length {
                let n = pread(file.fd, p.baseAddress! + done, length - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { return }
                done += n
            }
        }
        if failure != 0 { throw Self.mapErrno(failure, what: fullPath(name), name: name, location: root) }
        if done < length { throw StorageError.truncated(name, location: root) }
        return out
    }

    private func openFile(_ name: ObjectName) throws -> OpenFile {
        let path = fullPath(name)
        if let f = openFiles.withLock({ $0[path] }) { return f }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.mapErrno(errno, what: path, name: name, location: root) }
        let file = OpenFile(fd: fd)
        // Only packs are worth caching: they are read many times, a range at a time.
        if name.kind == .data {
            // Readers go through a pack from start to end, a blob at a time: ask the kernel
            // for the whole file now, so the reads that follow find it in memory.
            posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
            openFiles.withLock { cache in
                if cache.count >= Self.maxOpenFiles { cache.removeAll(keepingCapacity: true) }
                cache[path] = file
            }
        }
        return file
    }

    public func size(of name: ObjectName) async throws -> Int {
        var st = stat()
        guard stat(fullPath(name), &st) == 0 else { throw Self.mapErrno(errno, what: fullPath(name), name: name, location: root) }
        return Int(st.st_size)
    }

    public func list(_ kind: ObjectKind) async throws -> [ObjectInfo] {
        if kind == .config || kind == .manifest {
            let name = kind == .config ? ObjectName.config : .manifest
            guard let size = try? await size(of: name) else { return [] }  // a missing one lists as nothing
            return [ObjectInfo(name: name, sizeBytes: size)]
        }
        let folder = "\(root)/\(kind.rawValue)"
        var out: [ObjectInfo] = []
        if kind == .wal {
            // wal/<timeline>/<segment>: one level of folders.
            for timeline in try Self.entries(of: folder, location: root) where !timeline.hasPrefix(".") {
                for name in try Self.entries(of: "\(folder)/\(timeline)", location: root) where !name.hasPrefix(".") {
                    out.append(ObjectInfo(name: ObjectName(.wal, "\(timeline)/\(name)"), sizeBytes: Self.fileSize("\(folder)/\(timeline)/\(name)")))
                }
            }
        } else if kind == .data {
            for sub in try Self.entries(of: folder, location: root) where sub.count == 2 {
                for name in try Self.entries(of: "\(folder)/\(sub)", location: root) where !name.hasPrefix(".") {
                    out.append(ObjectInfo(name: ObjectName(.data, name), sizeBytes: Self.fileSize("\(folder)/\(sub)/\(name)")))
                }
            }
        } else {
            for name in try Self.entries(of: folder, location: root) where !name.hasPrefix(".") {
                out.append(ObjectInfo(name: ObjectName(kind, name), sizeBytes: Self.fileSize("\(folder)/\(name)")))
            }
        }
        return out.sorted { $0.name < $1.name }
    }

    public func delete(_ name: ObjectName) async throws {
        let path = fullPath(name)
        _ = openFiles.withLock { $0.removeValue(forKey: path) }
        guard unlink(path) == 0 else { throw Self.mapErrno(errno, what: path, name: name, location: root) }
        try Self.fsyncFolder(String(path[..<path.lastIndex(of: "/")!]), location: root)
    }

    // MARK: - helpers

    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int {
        var folders: [String] = []
        for kind in ObjectKind.allCases where kind != .config && kind != .manifest {
            let folder = "\(root)/\(kind.rawValue)"
            folders.append(folder)
            if kind == .data || kind == .wal {
                folders += try Self.entries(of: folder, location: root).filter { !$0.hasPrefix(".") }.map { "\(folder)/\($0)" }
            }
        }
        folders.append(root)  // `config` and `manifest.json` are written beside the folders
        var removed = 0
        let limit = date.timeIntervalSince1970
        for folder in folders {
            for name in try Self.entries(of: folder, location: root) where name.hasPrefix(".tmp-") {
                var st = stat()
                guard lstat("\(folder)/\(name)", &st) == 0, Double(st.st_mtim.tv_sec) < limit else { continue }
                if unlink("\(folder)/\(name)") == 0 { removed += 1 }
            }
        }
        return removed
    }

    private static func entries(of folder: String, location: String) throws -> [String] {
        guard let dir = opendir(folder) else {
            // Missing, or a stray file where a folder was expected: nothing of ours is there.
            if errno == ENOENT || errno == ENOTDIR { return [] }
            throw mapErrno(errno, what: folder, name: nil, location: location)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    private static func ensureFolder(_ folder: String, root: String) throws {
        var st = stat()
        if stat(folder, &st) == 0 { return }
        let parent = String(folder[..<folder.lastIndex(of: "/")!])
        if parent.count > root.count { try ensureFolder(parent, root: root) }
        try makeDirectory(folder, location: root)
        try fsyncFolder(parent, location: root)
    }

    private static func makeDirectory(_ path: String, location: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw mapErrno(errno, what: path, name: nil, location: location)
        }
    }

    static func fsyncFolder(_ folder: String, location: String) throws {
        if let e = DurableFile.syncFolder(folder) { throw mapErrno(e, what: folder, name: nil, location: location) }
    }

    static func mapErrno(_ e: Int32, what: String, name: ObjectName?, location: String) -> StorageError {
        switch e {
        case ENOENT: return name.map { .objectNotFound($0, location: location) } ?? .locationNotFound(location: location)
        case ENOSPC, EDQUOT: return .noSpace(name ?? .config, location: location)
        case EROFS: return .readOnly(location: location)
        case EACCES, EPERM: return .permissionDenied(what, location: location)
        default: return .io(what, errno: e, location: location)
        }
    }
}

/// An open descriptor, closed when the last user lets go of it, so the read cache can
/// drop an entry while a reader is still using it.
private final class OpenFile: Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
