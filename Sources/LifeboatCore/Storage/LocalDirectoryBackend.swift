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
///
/// A location may have been filled by someone else (a medium, a bundle, a shared disk):
/// every folder below the root is opened with `O_NOFOLLOW` and every file by a name
/// relative to its open folder, so no symbolic link inside the location, planted before or
/// swapped in during a run, leads a read, a write or a `mkdir` outside the root; and a
/// listing names only regular files under valid object names (``ObjectListing``).
///
/// What it writes into an existing repository takes the repository's owner and modes: a
/// command run as root on a repository that belongs to the database's user (whose
/// `archive_command` writes it too) gives every file and folder it makes to that user, with
/// the mode of the repository's `config` (0600 unless its owner chose otherwise), so that
/// user's own commands can still read everything.
public final class LocalDirectoryBackend: StorageBackend {
    public let root: String
    public var locationDescription: String { root }
    private let openFiles = Mutex<[String: OpenFile]>([:])
    private static let maxOpenFiles = 64
    /// Who new files and folders are given to, when this process (root) is not the
    /// repository's owner; nil when what it makes is already the owner's.
    let adoptedOwner: (uid: uid_t, gid: gid_t)?
    /// The mode of new files (the repository's `config`'s) and of new folders (the same, with
    /// search wherever it is readable).
    let fileMode: mode_t
    let folderMode: mode_t

    /// - Throws: ``StorageError/locationNotFound(location:)`` unless `create` is set.
    public init(path: String, create: Bool = false) throws {
        var root = path
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
        var st = stat()
        if stat(root, &st) != 0 {
            guard create else { throw StorageError.locationNotFound(location: root) }
            try Self.makeDirectory(root, location: root)
            adoptedOwner = nil
            (fileMode, folderMode) = (0o600, 0o700)
            return
        } else if st.st_mode & S_IFMT != S_IFDIR {
            throw StorageError.io("\(root) is not a directory", errno: ENOTDIR, location: root)
        }
        // Only root can give a file away; anyone else writes files of its own, as always.
        adoptedOwner = geteuid() == 0 && st.st_uid != 0 ? (st.st_uid, st.st_gid) : nil
        var config = stat()
        if stat(root + "/config", &config) == 0 && config.st_mode & S_IFMT == S_IFREG {
            // The owner keeps read and write; what the owner granted its group or others stays granted.
            let file = (config.st_mode & 0o666) | 0o600
            (fileMode, folderMode) = (file, file | ((file & 0o444) >> 2))
        } else {
            (fileMode, folderMode) = (0o600, 0o700)
        }
    }

    /// Gives what this backend just made to the repository's owner (see ``adoptedOwner``).
    /// - Returns: errno on failure.
    private func adopt(_ fd: Int32) -> Int32? {
        guard let owner = adoptedOwner else { return nil }
        return fchown(fd, owner.uid, owner.gid) == 0 ? nil : errno
    }

    /// Gives a file just made the repository's mode and owner; returns errno on failure.
    func prepareNewFile(_ fd: Int32) -> Int32? {
        // The umask may have taken bits the repository's mode grants: set it exactly.
        if fileMode != 0o600 && fchmod(fd, fileMode) != 0 { return errno }
        return adopt(fd)
    }

    /// The folders below the root and the file name an object lives at.
    static func place(of name: ObjectName) -> (folders: [String], file: String) {
        // `path` is made of a valid name's parts only: no `..`, no empty or absolute part.
        var parts = name.path.split(separator: "/").map(String.init)
        let file = parts.removeLast()
        return (parts, file)
    }

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        let (folders, file) = Self.place(of: name)
        try await BlockingIOQueue.run {
            let folder = try self.openFolder(folders, create: true, name: name)
            defer { close(folder) }
            try self.writeAtomically(bytes, in: folder, file: file, name: name, overwrite: overwrite)
        }
    }

    /// Writes `file` in the open `folder`, by names relative to it: a folder swapped for a
    /// link after it was opened cannot redirect the write.
    private func writeAtomically(_ bytes: [UInt8], in folder: Int32, file: String, name: ObjectName, overwrite: Bool) throws {
        let location = root
        var st = stat()
        if !overwrite && fstatat(folder, file, &st, AT_SYMLINK_NOFOLLOW) == 0 { throw StorageError.alreadyExists(name, location: location) }
        let tmp = ".tmp-\(Digest256.random().hex.prefix(16))"
        let fd = openat(folder, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, fileMode)
        guard fd >= 0 else { throw Self.mapErrno(errno, what: tmp, name: name, location: location) }
        var failure: StorageError?
        if let e = prepareNewFile(fd) { failure = Self.mapErrno(e, what: tmp, name: name, location: location) }
        if failure == nil {
            let error = bytes.withUnsafeBytes { p in
                p.count >= Self.directWriteThreshold ? Self.writeDirect(fd, p) : DurableFile.writeAll(fd, p, at: 0)
            }
            if let error { failure = Self.mapErrno(error, what: tmp, name: name, location: location) }
        }
        if failure == nil && fsync(fd) != 0 { failure = Self.mapErrno(errno, what: tmp, name: name, location: location) }
        close(fd)
        if failure == nil {
            if overwrite {
                // renameat(2) replaces the name itself, never what a link there points to.
                if renameat(folder, tmp, folder, file) != 0 { failure = Self.mapErrno(errno, what: name.path, name: name, location: location) }
            } else if linkat(folder, tmp, folder, file, 0) != 0 {
                // link(2) instead of rename(2): it fails on an existing name, so two writers of
                // one name can never replace each other's object.
                failure = errno == EEXIST ? .alreadyExists(name, location: location) : Self.mapErrno(errno, what: name.path, name: name, location: location)
            }
        }
        unlinkat(folder, tmp, 0)
        if let failure { throw failure }
        try syncFolder(folder, what: name.path)
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

    // Every call below blocks on the disk: each runs on the blocking pool (inline when a
    // restore's or a check's walk already runs there).
    public func read(_ name: ObjectName) async throws -> [UInt8] {
        try await BlockingIOQueue.run { try self.readWhole(name) }
    }

    private func readWhole(_ name: ObjectName) throws -> [UInt8] {
        let file = try openFile(name)
        var st = stat()
        guard fstat(file.fd, &st) == 0 else { throw Self.mapErrno(errno, what: name.path, name: name, location: root) }
        guard st.st_size <= ObjectKind.maxObjectBytes else {
            throw StorageError.oversizedAnswer("reading \(name)", limitBytes: ObjectKind.maxObjectBytes, location: root)
        }
        return try readRange(file, name: name, offset: 0, length: Int(st.st_size))
    }

    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        try await BlockingIOQueue.run { try self.readRange(try self.openFile(name), name: name, offset: offset, length: length) }
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
        if failure != 0 { throw Self.mapErrno(failure, what: name.path, name: name, location: root) }
        if done < length { throw StorageError.truncated(name, location: root) }
        return out
    }

    private func openFile(_ name: ObjectName) throws -> OpenFile {
        let path = name.path
        if let f = openFiles.withLock({ $0[path] }) { return f }
        let (folders, fileName) = Self.place(of: name)
        let folder = try openFolder(folders, create: false, name: name)
        defer { close(folder) }
        // O_NONBLOCK: a FIFO planted under an object's name must not hang the open; it is
        // refused below, and a regular file ignores the flag, unless another process holds
        // a lease on it (fcntl F_SETLEASE: a file server's, a test's): the open then answers
        // EWOULDBLOCK while the lease is broken, and a blocking open waits for the holder to
        // let go, as any reader's would: on the very file found, which an O_PATH descriptor
        // opens nothing of, so a FIFO swapped in between cannot hang the blocking open.
        var fd = openat(folder, fileName, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        if fd < 0 && errno == EWOULDBLOCK {
            let handle = openat(folder, fileName, O_PATH | O_CLOEXEC | O_NOFOLLOW)
            guard handle >= 0 else { throw Self.mapErrno(errno, what: path, name: name, location: root) }
            defer { close(handle) }
            var st = stat()
            guard fstat(handle, &st) == 0 else { throw Self.mapErrno(errno, what: path, name: name, location: root) }
            guard st.st_mode & S_IFMT == S_IFREG else { throw StorageError.notOwnFile(path, what: "not a regular file", location: root) }
            fd = open("/proc/self/fd/\(handle)", O_RDONLY | O_CLOEXEC)
        }
        guard fd >= 0 else { throw Self.mapErrno(errno, what: path, name: name, location: root) }
        let file = OpenFile(fd: fd)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Self.mapErrno(errno, what: path, name: name, location: root) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw StorageError.notOwnFile(path, what: "not a regular file", location: root) }
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
        try await BlockingIOQueue.run { try self.sizeNow(of: name) }
    }

    private func sizeNow(of name: ObjectName) throws -> Int {
        let (folders, file) = Self.place(of: name)
        let folder = try openFolder(folders, create: false, name: name)
        defer { close(folder) }
        var st = stat()
        guard fstatat(folder, file, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw Self.mapErrno(errno, what: name.path, name: name, location: root) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw StorageError.notOwnFile(name.path, what: "not a regular file", location: root) }
        return Int(st.st_size)
    }

    public func listing(_ kind: ObjectKind) async throws -> ObjectListing {
        try await BlockingIOQueue.run { try self.listingNow(kind) }
    }

    private func listingNow(_ kind: ObjectKind) throws -> ObjectListing {
        let rootFolder = try openFolder([], create: false, name: nil)
        defer { close(rootFolder) }
        var out = ObjectListing()
        guard kind.isFolder else {
            let name = kind == .config ? ObjectName.config : .manifest
            if let entry = try entry(name.path, in: rootFolder, relative: name.path) {
                switch entry {
                case .file(let info): out.objects.append(ObjectInfo(name: name, sizeBytes: info.sizeBytes, modified: info.modified))
                case .notAFile(let reason): out.rejected.append(RejectedObjectKey(kind: kind, key: name.path.utf8, reason: reason, location: root))
                case .folder: out.rejected.append(RejectedObjectKey(kind: kind, key: name.path.utf8, reason: "a folder, not a file", location: root))
                }
            }
            return out
        }
        func reject(_ key: [UInt8], _ reason: String) {
            let path = key.isEmpty ? Array(kind.rawValue.utf8) : Array(kind.rawValue.utf8) + [UInt8(ascii: "/")] + key
            out.rejected.append(RejectedObjectKey(kind: kind, key: path, reason: reason, location: root))
        }
        func add(_ relative: [UInt8], _ file: FileFacts) {
            switch ObjectName.classify(kind, relative: String(decoding: relative, as: UTF8.self)) {
            case .object(let name): out.objects.append(ObjectInfo(name: name, sizeBytes: file.sizeBytes, modified: file.modified))
            case .temporary: break
            case .invalid(let reason): reject(relative, reason)
            }
        }
        guard let kindFolder = try openChild(kind.rawValue, of: rootFolder, relative: kind.rawValue, rejected: { reject([], $0) }) else { return out }
        defer { close(kindFolder) }
        // wal/<timeline>/<file> and data/<xx>/<hex> are one folder level deeper than the rest.
        let nested = kind == .wal || kind == .data
        for first in try Self.entries(of: kindFolder, location: root) where first.first != UInt8(ascii: ".") {
            let firstName = String(decoding: first, as: UTF8.self)
            guard let facts = try entry(firstName, in: kindFolder, relative: kind.rawValue + "/" + firstName) else { continue }
            switch facts {
            case .file(let file):
                if nested { reject(first, "a file where a folder belongs") } else { add(first, file) }
            case .notAFile(let reason):
                reject(first, reason)
            case .folder:
                guard nested else {
                    reject(first, "a folder where \(kind.rawValue) has none")
                    continue
                }
                guard let sub = try openChild(firstName, of: kindFolder, relative: kind.rawValue + "/" + firstName, rejected: { reject(first, $0) }) else { continue }
                defer { close(sub) }
                for second in try Self.entries(of: sub, location: root) where second.first != UInt8(ascii: ".") {
                    let relative = first + [UInt8(ascii: "/")] + second
                    let secondName = String(decoding: second, as: UTF8.self)
                    switch try entry(secondName, in: sub, relative: kind.rawValue + "/" + firstName + "/" + secondName) {
                    case .file(let file): add(relative, file)
                    case .notAFile(let reason): reject(relative, reason)
                    case .folder: reject(relative, "a folder where a file belongs")
                    case nil: continue  // removed meanwhile
                    }
                }
            }
        }
        out.objects.sort { $0.name < $1.name }
        return out
    }

    public func delete(_ name: ObjectName) async throws {
        try await BlockingIOQueue.run { try self.deleteNow(name) }
    }

    private func deleteNow(_ name: ObjectName) throws {
        let (folders, file) = Self.place(of: name)
        _ = openFiles.withLock { $0.removeValue(forKey: name.path) }
        let folder = try openFolder(folders, create: false, name: name)
        defer { close(folder) }
        guard unlinkat(folder, file, 0) == 0 else { throw Self.mapErrno(errno, what: name.path, name: name, location: root) }
        try syncFolder(folder, what: name.path)
    }

    // MARK: - helpers

    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int {
        try await BlockingIOQueue.run { try self.removeStaleTemporariesNow(olderThan: date) }
    }

    private func removeStaleTemporariesNow(olderThan date: Date) throws -> Int {
        let rootFolder = try openFolder([], create: false, name: nil)
        var folders: [Int32] = [rootFolder]  // `config` and `manifest.json` are written beside the folders
        defer { for fd in folders { close(fd) } }
        for kind in ObjectKind.allCases where kind.isFolder {
            guard let folder = try openChild(kind.rawValue, of: rootFolder, relative: kind.rawValue, rejected: { _ in }) else { continue }
            folders.append(folder)
            guard kind == .data || kind == .wal else { continue }
            for sub in try Self.entries(of: folder, location: root) where sub.first != UInt8(ascii: ".") {
                let subName = String(decoding: sub, as: UTF8.self)
                // Links and files are not folders of ours: nothing of ours to clear there.
                if let fd = try openChild(subName, of: folder, relative: kind.rawValue + "/" + subName, rejected: { _ in }) { folders.append(fd) }
            }
        }
        var removed = 0
        let limit = date.timeIntervalSince1970
        let prefix = Array(".tmp-".utf8)
        for folder in folders {
            for name in try Self.entries(of: folder, location: root) where name.starts(with: prefix) {
                var st = stat()
                let text = String(decoding: name, as: UTF8.self)
                guard fstatat(folder, text, &st, AT_SYMLINK_NOFOLLOW) == 0, Double(st.st_mtim.tv_sec) < limit else { continue }
                if unlinkat(folder, text, 0) == 0 { removed += 1 }
            }
        }
        return removed
    }

    // MARK: - Folders, opened without following links

    /// Opens the folder `folders` below the root, each part with `O_NOFOLLOW`, so that no
    /// link inside the location leads a read or a write out of it; with `create`, makes
    /// the missing ones (0700) and fsyncs their parents. The root itself may be a link.
    /// - Returns: a descriptor the caller closes.
    func openFolder(_ folders: [String], create: Bool, name: ObjectName?) throws -> Int32 {
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw errno == ENOENT ? StorageError.locationNotFound(location: root) : Self.mapErrno(errno, what: root, name: nil, location: root) }
        var relative = ""
        for part in folders {
            relative += relative.isEmpty ? part : "/" + part
            var next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(fd, part, folderMode) != 0 && errno != EEXIST {
                    let e = errno
                    close(fd)
                    throw Self.mapErrno(e, what: relative, name: nil, location: root)
                }
                // Given to the repository's owner before anything goes in it.
                if let owner = adoptedOwner, fchownat(fd, part, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) != 0 {
                    let e = errno
                    close(fd)
                    throw Self.mapErrno(e, what: relative, name: nil, location: root)
                }
                if fsync(fd) != 0 && errno != EINVAL {
                    let e = errno
                    close(fd)
                    throw Self.mapErrno(e, what: relative, name: nil, location: root)
                }
                next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let e = errno
            close(fd)
            guard next >= 0 else {
                if e == ELOOP || e == ENOTDIR { throw StorageError.notOwnFile(relative, what: "a symbolic link or a file where a folder belongs", location: root) }
                throw Self.mapErrno(e, what: relative, name: name, location: root)
            }
            fd = next
        }
        return fd
    }

    /// Opens the folder `child` of `parent` without following a link; nil when it does not
    /// exist, or when it is no folder (then `rejected` hears why).
    private func openChild(_ child: String, of parent: Int32, relative: String, rejected: (String) -> Void) throws -> Int32? {
        let fd = openat(parent, child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { return fd }
        switch errno {
        case ENOENT: return nil
        case ELOOP, ENOTDIR:
            rejected("a symbolic link or a file where a folder belongs")
            return nil
        default: throw Self.mapErrno(errno, what: relative, name: nil, location: root)
        }
    }

    private struct FileFacts {
        let sizeBytes: Int
        let modified: Date
    }

    private enum EntryFacts {
        case file(FileFacts)
        case folder
        case notAFile(String)
    }

    /// What `name` in `folder` is, without following a link; nil when it is gone.
    private func entry(_ name: String, in folder: Int32, relative: String) throws -> EntryFacts? {
        var st = stat()
        guard fstatat(folder, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw Self.mapErrno(errno, what: relative, name: nil, location: root)
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            let modified = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
            return .file(FileFacts(sizeBytes: Int(st.st_size), modified: modified))
        case S_IFDIR: return .folder
        case S_IFLNK: return .notAFile("a symbolic link")
        default: return .notAFile("not a regular file")
        }
    }

    /// The names in an open folder, as raw bytes (a hostile name need not be UTF-8).
    private static func entries(of folder: Int32, location: String) throws -> [[UInt8]] {
        let fd = dup(folder)
        guard fd >= 0, let dir = fdopendir(fd) else {
            let e = errno
            if fd >= 0 { close(fd) }
            throw mapErrno(e, what: "a folder", name: nil, location: location)
        }
        defer { closedir(dir) }
        // A dup shares the offset: start from the first entry whoever read this folder before.
        rewinddir(dir)
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                let p = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
                return Array(UnsafeRawBufferPointer(start: raw.baseAddress!, count: strlen(p)))
            }
            if name != [0x2e] && name != [0x2e, 0x2e] { names.append(name) }
        }
        return names
    }

    private func syncFolder(_ folder: Int32, what: String) throws {
        if fsync(folder) != 0 && errno != EINVAL { throw Self.mapErrno(errno, what: what, name: nil, location: root) }
    }

    private static func makeDirectory(_ path: String, location: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw mapErrno(errno, what: path, name: nil, location: location)
        }
    }

    static func mapErrno(_ e: Int32, what: String, name: ObjectName?, location: String) -> StorageError {
        switch e {
        case ENOENT: return name.map { .objectNotFound($0, location: location) } ?? .locationNotFound(location: location)
        case ENOSPC, EDQUOT: return .noSpace(name?.path ?? what, location: location)
        case EROFS: return .readOnly(location: location)
        case EACCES, EPERM: return .permissionDenied(what, location: location)
        case ELOOP: return .notOwnFile(what, what: "a symbolic link", location: location)
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
