import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Restores a snapshot into a directory.
///
/// The tree is walked on the calling task; directories are made as they are met, and
/// their modes and times set last, deepest first, so that restoring their content does
/// not disturb them. Each file is written by a child task (at most `fileWorkers` at
/// once) blob by blob; every blob is authenticated before a byte of it is written, and a
/// file whose blob is damaged or missing is removed and reported, never left with wrong
/// bytes. Hardlinks are made after all files exist. Names from the snapshot are checked
/// (no `/`, `.`, `..`, NUL or duplicates), so a crafted snapshot cannot write outside
/// the target.
public struct Restorer: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    /// A name that creates exactly one entry inside its directory.
    static func isSafeName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name != [0x2e] && name != [0x2e, 0x2e] && !name.contains(0x2f) && !name.contains(0)
    }

    public func restore(_ snapshot: Snapshot, options: RestoreOptions) async throws -> RestoreResult {
        try await restore(tree: snapshot.tree, options: options)
    }

    /// Restores the entries of one tree (a snapshot's root, or a directory inside it) into
    /// `options.target`.
    /// - Parameter index: the repository's index when the caller has loaded it already.
    public func restore(tree: BlobID, options: RestoreOptions, index loaded: MasterIndex? = nil) async throws -> RestoreResult {
        // Blobs name their key synchronously: every key written so far must be known.
        try await repository.refreshDataKeys()
        let index: MasterIndex
        if let loaded { index = loaded } else { index = try await repository.loadIndex() }
        let target = RawPath(options.target)
        var st = stat()
        if target.withCString({ stat($0, &st) }) != 0 {
            guard target.withCString({ mkdir($0, 0o755) }) == 0 || errno == EEXIST else {
                throw FileSystemError("mkdir", target, errno: errno)
            }
        }
        var walk = RestoreWalk(repository: repository, index: index, options: options)
        try await walk.run(root: tree, target: target)
        return walk.result
    }
}

private struct RestoreWalk {
    let repository: Repository
    let index: MasterIndex
    let options: RestoreOptions
    var result = RestoreResult()
    /// Directories made, in the order made; their metadata is set in reverse.
    private var directories: [(RawPath, Node)] = []
    private var hardlinks: [(existing: RawPath, new: RawPath, snapshotPath: String)] = []
    private var firstOfInode: [HardlinkKey: RawPath] = [:]
    private var damagedPaths = Set<RawPath>()

    struct HardlinkKey: Hashable { let device: UInt64; let inode: UInt64 }

    init(repository: Repository, index: MasterIndex, options: RestoreOptions) {
        self.repository = repository
        self.index = index
        self.options = options
    }

    struct FileJob: Sendable {
        let path: RawPath
        let snapshotPath: String
        let node: Node
        /// Opened for writing by the walk; the job closes it.
        let fd: Int32
    }

    enum FileOutcome: Sendable {
        case written(bytes: Int64, verified: Bool)
        case damaged(String)
        case verificationFailed(String)
        case failed(String)
    }

    mutating func run(root: BlobID, target: RawPath) async throws {
        let options = self.options
        try await withThrowingTaskGroup(of: (FileJob, FileOutcome).self) { group in
            var running = 0
            // (tree, where it goes, its snapshot path, whether an include already matched above,
            // whether this run made the directory, so that nothing in it can exist yet)
            var stack: [(BlobID, RawPath, String, Bool, Bool)] = [(root, target, "", options.includes.isEmpty, false)]
            while let (treeID, dirPath, snapshotDir, included, isFresh) = stack.popLast() {
                try Task.checkCancellation()
                let tree: Tree
                do {
                    tree = try await repository.loadTree(treeID, index: index)
                } catch {
                    result.errors.append("\(snapshotDir.isEmpty ? "/" : snapshotDir): directory listing is unreadable: \(error)")
                    continue
                }
                var seen = Set<[UInt8]>()
                for node in tree.nodes {
                    let name = node.nameBytes
                    guard Restorer.isSafeName(name), seen.insert(name).inserted else {
                        result.errors.append("\(snapshotDir)/\(node.name): unsafe or duplicate name in the snapshot, skipped")
                        continue
                    }
                    let path = dirPath.appending(name)
                    let snapshotPath = snapshotDir + "/" + node.name
                    let isIncluded = included || matches(snapshotPath, name: node.name)
                    switch node.type {
                    case .directory:
                        if isIncluded || hasIncludeBelow(snapshotPath) {
                            guard let made = makeDirectory(path, node: node, snapshotPath: snapshotPath) else { continue }
                            if let sub = node.subtree { stack.append((sub, path, snapshotPath, isIncluded, made)) }
                        }
                    case .file where isIncluded:
                        if node.linkCount > 1 {
                            let key = HardlinkKey(device: node.device, inode: node.inode)
                            if let first = firstOfInode[key] {
                                hardlinks.append((first, path, snapshotPath))
                                continue
                            }
                            firstOfInode[key] = path
                        }
                        if running >= options.fileWorkers, let (job, outcome) = try await group.next() {
                            running -= 1
                            record(job, outcome)
                        }
                        // Files are created here, one at a time: creating them from several
                        // tasks at once makes them contend for the directory's lock in the kernel.
                        if !isFresh { path.withCString { _ = unlink($0) } }
                        let fd = path.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
                        guard fd >= 0 else {
                            result.errors.append("\(snapshotPath): open: \(String(cString: strerror(errno)))")
                            damagedPaths.insert(path)
                            continue
                        }
                        running += 1
                        let job = FileJob(path: path, snapshotPath: snapshotPath, node: node, fd: fd)
                        let (repository, index) = (self.repository, self.index)
                        group.addTask {
                            (job, await Self.writeFile(job, repository: repository, index: index, options: options))
                        }
                    case .file:
                        continue
                    default:
                        if isIncluded { makeSpecial(path, node: node, snapshotPath: snapshotPath) }
                    }
                }
            }
            while let (job, outcome) = try await group.next() { record(job, outcome) }
        }
        for (existing, new, snapshotPath) in hardlinks {
            if damagedPaths.contains(existing) {
                result.damagedFiles.append("\(snapshotPath): hardlink to a file that could not be restored")
                continue
            }
            let r = existing.withCString { e in new.withCString { unlink($0); return link(e, $0) } }
            if r != 0 { result.errors.append("link \(new): \(String(cString: strerror(errno)))") } else { result.filesRestored += 1 }
        }
        for (path, node) in directories.reversed() { applyMetadata(path, node: node, isDirectory: true) }
    }

    private mutating func record(_ job: FileJob, _ outcome: FileOutcome) {
        switch outcome {
        case .written(let bytes, let verified):
            result.filesRestored += 1
            result.bytesWritten += bytes
            if verified { result.filesVerified += 1 }
        case .damaged(let reason):
            damagedPaths.insert(job.path)
            result.damagedFiles.append("\(job.snapshotPath): \(reason)")
        case .verificationFailed(let reason):
            damagedPaths.insert(job.path)
            result.verificationFailures += 1
            result.damagedFiles.append("\(job.snapshotPath): verification failed: \(reason)")
        case .failed(let reason):
            damagedPaths.insert(job.path)
            result.errors.append("\(job.snapshotPath): \(reason)")
        }
    }

    private func matches(_ snapshotPath: String, name: String) -> Bool {
        options.includes.contains { pattern in
            fnmatch(pattern, pattern.contains("/") ? snapshotPath : name, 0) == 0
        }
    }

    /// Whether an include pattern could match something below this directory.
    private func hasIncludeBelow(_ snapshotPath: String) -> Bool {
        options.includes.contains { pattern in
            // A pattern on names can match anywhere; one on paths only where its prefix matches.
            guard pattern.contains("/") else { return true }
            let depth = snapshotPath.split(separator: "/").count
            let prefix = "/" + pattern.split(separator: "/", omittingEmptySubsequences: true).prefix(depth).joined(separator: "/")
            return fnmatch(prefix, snapshotPath, 0) == 0
        }
    }

    // MARK: - Entries

    /// Makes (or reuses) a directory; returns whether it is new, nil on failure.
    private mutating func makeDirectory(_ path: RawPath, node: Node, snapshotPath: String) -> Bool? {
        let r = path.withCString { mkdir($0, 0o700) }
        if r != 0 {
            guard errno == EEXIST else {
                result.errors.append("mkdir \(snapshotPath): \(String(cString: strerror(errno)))")
                return nil
            }
            var st = stat()
            guard path.withCString({ lstat($0, &st) }) == 0, st.st_mode & S_IFMT == S_IFDIR else {
                result.errors.append("\(snapshotPath): exists in the target and is not a directory")
                return nil
            }
            // Owner-writable until the end, when the recorded mode is set.
            path.withCString { _ = chmod($0, 0o700) }
        }
        directories.append((path, node))
        result.directoriesRestored += 1
        return r == 0
    }

    private mutating func makeSpecial(_ path: RawPath, node: Node, snapshotPath: String) {
        path.withCString { _ = unlink($0) }
        let r: Int32
        switch node.type {
        case .symlink:
            var target = node.linkTarget ?? []
            target.append(0)
            r = target.withUnsafeBufferPointer { t in path.withCString { symlink(UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: CChar.self), $0) } }
        case .fifo:
            r = path.withCString { mkfifo($0, mode_t(node.mode & 0o7777)) }
        case .characterDevice, .blockDevice:
            guard options.restoreOwnership else {
                result.errors.append("\(snapshotPath): device nodes can only be made by root, skipped")
                return
            }
            let kind = node.type == .characterDevice ? S_IFCHR : S_IFBLK
            r = path.withCString { mknod($0, kind | mode_t(node.mode & 0o7777), dev_t(node.deviceNumber ?? 0)) }
        case .socket:
            // A socket belongs to the process that made it; there is nothing to restore.
            return
        default:
            return
        }
        guard r == 0 else {
            result.errors.append("\(snapshotPath): \(String(cString: strerror(errno)))")
            return
        }
        result.otherEntriesRestored += 1
        applyMetadata(path, node: node, isDirectory: false)
    }

    /// Owner, mode, extended attributes and times, in that order: chown clears setuid, and
    /// every change but the last would move the mtime.
    private mutating func applyMetadata(_ path: RawPath, node: Node, isDirectory: Bool) {
        if let error = Self.applyMetadata(path, node: node, options: options) { result.errors.append(error) }
    }

    static func applyMetadata(_ path: RawPath, node: Node, options: RestoreOptions) -> String? {
        let isLink = node.type == .symlink
        var problems: [String] = []
        if options.restoreOwnership {
            if path.withCString({ lchown($0, node.uid, node.gid) }) != 0 { problems.append("chown: \(String(cString: strerror(errno)))") }
        }
        if !isLink {
            if path.withCString({ chmod($0, mode_t(node.mode)) }) != 0 { problems.append("chmod: \(String(cString: strerror(errno)))") }
        }
        for x in node.xattrs {
            let r = path.withCString { p in x.name.withCString { n in x.value.withUnsafeBytes { lsetxattr(p, n, $0.baseAddress, $0.count, 0) } } }
            if r != 0 { problems.append("xattr \(x.name): \(String(cString: strerror(errno)))") }
        }
        var times = [
            timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds)),
            timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds)),
        ]
        if path.withCString({ utimensat(AT_FDCWD, $0, &times, AT_SYMLINK_NOFOLLOW) }) != 0 {
            problems.append("times: \(String(cString: strerror(errno)))")
        }
        return problems.isEmpty ? nil : "\(path): \(problems.joined(separator: ", "))"
    }

    /// The same as ``applyMetadata(_:node:options:)`` through an open descriptor: no path
    /// lookups, which a restore of many small files otherwise spends much of its time on.
    static func applyMetadata(fd: Int32, path: RawPath, node: Node, options: RestoreOptions) -> String? {
        var problems: [String] = []
        if options.restoreOwnership, fchown(fd, node.uid, node.gid) != 0 { problems.append("chown: \(String(cString: strerror(errno)))") }
        if fchmod(fd, mode_t(node.mode)) != 0 { problems.append("chmod: \(String(cString: strerror(errno)))") }
        for x in node.xattrs {
            let r = x.name.withCString { n in x.value.withUnsafeBytes { fsetxattr(fd, n, $0.baseAddress, $0.count, 0) } }
            if r != 0 { problems.append("xattr \(x.name): \(String(cString: strerror(errno)))") }
        }
        var times = [
            timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds)),
            timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds)),
        ]
        if futimens(fd, &times) != 0 { problems.append("times: \(String(cString: strerror(errno)))") }
        return problems.isEmpty ? nil : "\(path): \(problems.joined(separator: ", "))"
    }

    // MARK: - File content

    private static let zeroBlock = [UInt8](repeating: 0, count: 4096)

    static func writeFile(_ job: FileJob, repository: Repository, index: MasterIndex, options: RestoreOptions) async -> FileOutcome {
        let path = job.path
        let fd = job.fd
        var offset = 0
        var failure: FileOutcome?
        for id in job.node.content {
            guard let location = index.location(of: id) else {
                failure = .damaged("blob \(id.shortHex) is not in the index")
                break
            }
            let plain: [UInt8]
            do {
                plain = try await repository.loadBlob(location)
            } catch {
                failure = .damaged("\(error)")
                break
            }
            if let e = write(plain, fd: fd, at: offset, sparse: options.sparse) {
                failure = .failed("write: \(String(cString: strerror(e)))")
                break
            }
            offset += plain.count
        }
        // A file that ends in a hole is shorter than its size until truncated to it.
        if failure == nil, lseek(fd, 0, SEEK_END) != off_t(offset), ftruncate(fd, off_t(offset)) != 0 {
            failure = .failed("truncate: \(String(cString: strerror(errno)))")
        }
        if let failure {
            close(fd)
            // Never leave a file with wrong or missing bytes where the right one should be.
            path.withCString { _ = unlink($0) }
            return failure
        }
        var verified = false
        if options.verify {
            if let problem = verifyFile(path, content: job.node.content, index: index, repository: repository) {
                close(fd)
                path.withCString { _ = unlink($0) }
                return .verificationFailed(problem)
            }
            verified = true
        }
        let problem = applyMetadata(fd: fd, path: path, node: job.node, options: options)
        close(fd)
        if let problem { return .failed(problem) }
        return .written(bytes: Int64(offset), verified: verified)
    }

    /// pwrite of the non-zero 4 KiB blocks only when sparse; returns errno on failure.
    private static func write(_ bytes: [UInt8], fd: Int32, at offset: Int, sparse: Bool) -> Int32? {
        bytes.withUnsafeBytes { p -> Int32? in
            var i = 0
            while i < p.count {
                var runEnd = i
                if sparse {
                    // Skip zero blocks; then take the following run of non-zero blocks.
                    while i < p.count, isZero(p, i) { i += 4096 }
                    runEnd = i
                    while runEnd < p.count, !isZero(p, runEnd) { runEnd += 4096 }
                    runEnd = min(runEnd, p.count)
                } else {
                    runEnd = p.count
                }
                if i >= p.count { break }
                var done = i
                while done < runEnd {
                    let n = pwrite(fd, p.baseAddress! + done, runEnd - done, off_t(offset + done))
                    if n < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    done += n
                }
                i = runEnd
            }
            return nil
        }
    }

    @inline(__always)
    private static func isZero(_ p: UnsafeRawBufferPointer, _ at: Int) -> Bool {
        let n = min(4096, p.count - at)
        return zeroBlock.withUnsafeBytes { memcmp(p.baseAddress! + at, $0.baseAddress!, n) == 0 }
    }

    /// Reads the file back in the snapshot's blob lengths and compares each blob id.
    private static func verifyFile(_ path: RawPath, content: [BlobID], index: MasterIndex, repository: Repository) -> String? {
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return "cannot reopen: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var offset = 0
        for id in content {
            guard let length = index.location(of: id)?.plainBytes else { return "blob \(id.shortHex) not indexed" }
            var buffer = [UInt8](repeating: 0, count: length)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(offset)) }
            guard n == length, repository.masterKey.blobID(of: buffer) == id else { return "bytes at offset \(offset) differ" }
            offset += length
        }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) == offset else { return "size differs" }
        return nil
    }
}
