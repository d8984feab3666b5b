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

    mutating func run(root: BlobID, target: RawPath) async throws {
        let options = self.options
        try await withThrowingTaskGroup(of: (RestoreContentWriter.Job, RestoreContentWriter.Outcome).self) { group in
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
                        let job = RestoreContentWriter.Job(path: path, snapshotPath: snapshotPath, node: node, fd: fd)
                        let (repository, index) = (self.repository, self.index)
                        group.addTask {
                            (job, await RestoreContentWriter.write(job, repository: repository, index: index, options: options))
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

    private mutating func record(_ job: RestoreContentWriter.Job, _ outcome: RestoreContentWriter.Outcome) {
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

    /// A metadata problem is the entry's, reported with it; the restore goes on.
    private mutating func applyMetadata(_ path: RawPath, node: Node, isDirectory: Bool) {
        if let error = RestoreMetadata.apply(to: path, node: node, options: options) { result.errors.append(error) }
    }
}
