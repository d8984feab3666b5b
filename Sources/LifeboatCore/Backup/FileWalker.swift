import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Walks the paths of a ``FileSelection`` and stores them: file content through file
/// workers and the ``BlobWriter``, then one tree blob per directory.
///
/// The walk runs on the calling task, depth first, in name order, relative to open
/// directories (``DirectoryHandle``): an entry is looked at, opened and read through its
/// directory's descriptor and never by a path looked up again, so a component swapped for
/// a symlink meanwhile is not followed; a file read is `fstat`-ed and, if another file
/// took its name since the walk looked, recorded with that file's metadata. Each regular file that
/// must be read becomes a child task (at most `fileWorkers` at once); its chunks are
/// hashed, compressed, sealed and packed by that task. A directory's tree blob is written
/// as soon as its last entry is known, so only the directories on the current path and
/// those waiting for file workers are in memory.
///
/// INCREMENTAL reuses the parent snapshot's content for files whose size, mtime, ctime
/// and inode are unchanged (and whose blobs are all indexed); FULL reads every byte.
/// Either way the snapshot refers to all of its content and restores on its own.
///
/// The state of one walk; it lives on the backup's own task only.
struct FileWalker {
    let repository: Repository
    let index: MasterIndex
    let writer: BlobWriter
    let options: BackupOptions
    let selection: FileSelection
    /// The source's exclusions and the options' together.
    let excludes: [String]
    let reuseUnchanged: Bool
    let progress: AsyncStream<BackupProgress>.Continuation?
    let reader: FileReader
    var statistics = Snapshot.Statistics()
    var warnings: [String] = []
    private var filesDone = 0
    private var bytesDone: Int64 = 0
    private var filesReported = 0
    private var bytesReported: Int64 = 0
    /// Content of hardlinked files already read in this run, by (device, inode).
    private var hardlinkContent: [HardlinkKey: [BlobID]] = [:]
    /// Packs the snapshot refers to, for FULL's existence check.
    private var referencedBlobs = Set<BlobID>()

    struct HardlinkKey: Hashable { let device: UInt64; let inode: UInt64 }

    init(
        repository: Repository, index: MasterIndex, writer: BlobWriter, selection: FileSelection, options: BackupOptions, reuseUnchanged: Bool,
        progress: AsyncStream<BackupProgress>.Continuation?
    ) {
        self.repository = repository
        self.index = index
        self.writer = writer
        self.options = options
        self.selection = selection
        self.excludes = options.excludes + selection.excludes
        self.reuseUnchanged = reuseUnchanged
        self.progress = progress
        self.reader = FileReader(writer: writer, fileChunker: repository.makeChunker(), workers: options.fileWorkers)
    }

    /// A directory whose tree blob cannot be written until all its entries are known.
    final class PendingDirectory {
        var node: Node?
        var slots: [Node?]
        var pending: Int
        let parent: PendingDirectory?
        let slot: Int
        /// A folder above the paths named for backup: its children are those paths.
        var isAboveTargets = false
        init(node: Node?, count: Int, parent: PendingDirectory?, slot: Int) {
            self.node = node
            self.slots = Array(repeating: nil, count: count)
            self.pending = count
            self.parent = parent
            self.slot = slot
        }
    }

    /// What the walk still has to visit.
    enum Item {
        /// A path given to back up, or an entry inside one: `name` in `dir` (`path` for
        /// messages and exclusions).
        case real(dir: DirectoryHandle, name: [UInt8], path: RawPath, old: Node?, parent: PendingDirectory, slot: Int)
        /// A directory above a backed-up path: only the named children are included.
        /// The root (no parent, no container) carries the parent snapshot's root tree in `oldRoot`.
        case virtual(
            container: DirectoryHandle?, path: RawPath, children: [[UInt8]: VirtualEntry], old: Node?, oldRoot: Tree?, parent: PendingDirectory?,
            slot: Int)
    }

    final class VirtualEntry {
        var children: [[UInt8]: VirtualEntry] = [:]
        var isTarget = false
    }

    struct FileJob: Sendable {
        let number: Int
        let source: FileReader.Source
        let status: FileStatus
    }

    struct FileJobResult: Sendable {
        let number: Int
        let outcome: Result<FileReader.Outcome, FileSystemError>
    }

    struct WaitingFile {
        let node: Node
        let old: Node?
        let directory: PendingDirectory
        let slot: Int
        let source: FileReader.Source
        var path: RawPath { source.path }
        var attempts: Int
        /// Content read from a stand-in; the node keeps the original file's times.
        var isSubstitute = false
    }

    // MARK: - The walk

    mutating func run(paths: [String], parentRoot: Tree?) async throws -> BlobID {
        let top = VirtualEntry()
        for p in paths {
            var e = top
            for c in p.split(separator: "/") {
                let key = Array(c.utf8)
                if let next = e.children[key] { e = next } else { let n = VirtualEntry(); e.children[key] = n; e = n }
            }
            e.isTarget = true
            e.children = [:]
        }
        var rootTree: BlobID?
        try await withThrowingTaskGroup(of: FileJobResult.self) { group in
            var stack: [Item] = [.virtual(container: nil, path: RawPath("/"), children: top.children, old: nil, oldRoot: parentRoot, parent: nil, slot: 0)]
            var waiting: [Int: WaitingFile] = [:]
            var nextJob = 0
            var running = 0
            while true {
                // Keep the workers busy: visit entries until `fileWorkers` files are being read.
                while running < options.fileWorkers, let item = stack.popLast() {
                    try Task.checkCancellation()
                    switch item {
                    case .virtual(let container, let path, let children, let old, let oldRoot, let parent, let slot):
                        let oldTree = parent == nil ? oldRoot : try await loadOld(old)
                        var node: Node?
                        let handle: DirectoryHandle
                        if let container, let parent {
                            do {
                                // The folders above a backed-up path are the operator's choice: a symlink
                                // among them is followed, and the folder it leads to is recorded (a symlink
                                // node would restore without what lies below it).
                                handle = try container.openDirectory(path.lastComponent, followingLinks: true)
                                node = try makeNode(path: path, status: try handle.status(), parent: container, opened: handle)
                            } catch {
                                warn("cannot back up: \(error)")
                                try await complete(parent, slot: slot, with: nil, root: &rootTree)
                                continue
                            }
                        } else {
                            handle = try DirectoryHandle.open(path)
                        }
                        let names = children.keys.sorted { $0.lexicographicallyPrecedes($1) }
                        let dir = PendingDirectory(node: node, count: names.count, parent: parent, slot: slot)
                        dir.isAboveTargets = true
                        for (i, name) in names.enumerated().reversed() {
                            let childPath = path.appending(name)
                            let childOld = oldTree?.node(named: name)
                            if children[name]!.isTarget {
                                stack.append(.real(dir: handle, name: name, path: childPath, old: childOld, parent: dir, slot: i))
                            } else {
                                stack.append(
                                    .virtual(
                                        container: handle, path: childPath, children: children[name]!.children, old: childOld, oldRoot: nil, parent: dir, slot: i))
                            }
                        }
                        if names.isEmpty { try await finish(dir, root: &rootTree) }
                    case .real(let container, let name, let path, let old, let parent, let slot):
                        var status: FileStatus
                        do {
                            status = try container.status(of: name)
                        } catch let error as FileSystemError where error.errno == ENOENT && selection.isLiveDatabaseDirectory {
                            try await complete(parent, slot: slot, with: nil, root: &rootTree)
                            continue
                        } catch {
                            warn("cannot back up: \(error)")
                            try await complete(parent, slot: slot, with: nil, root: &rootTree)
                            continue
                        }
                        if isExcluded(path) {
                            try await complete(parent, slot: slot, with: nil, root: &rootTree)
                            continue
                        }
                        options.afterLook?(path)
                        // A directory is opened first and recorded as opened: what is listed is
                        // what the node describes, even if the name changed hands meanwhile.
                        var opened: DirectoryHandle?
                        if status.type == .directory {
                            do {
                                let sub = try container.openDirectory(name)
                                status = try sub.status()
                                opened = sub
                            } catch let error as FileSystemError where error.errno == ENOENT && selection.isLiveDatabaseDirectory {
                                try await complete(parent, slot: slot, with: nil, root: &rootTree)
                                continue
                            } catch let error as FileSystemError where error.errno == ELOOP || error.errno == ENOTDIR || error.errno == ENOENT {
                                warn("\(path) was replaced or removed after it was listed; not backed up")
                                try await complete(parent, slot: slot, with: nil, root: &rootTree)
                                continue
                            } catch {
                                // Unreadable (EACCES): recorded from lstat, without its entries, as before.
                                warn("cannot back up: \(error)")
                            }
                        }
                        let node: Node
                        do {
                            node = try makeNode(path: path, status: status, parent: container, opened: opened)
                        } catch {
                            warn("cannot back up: \(error)")
                            try await complete(parent, slot: slot, with: nil, root: &rootTree)
                            continue
                        }
                        switch status.type {
                        case .directory:
                            var names: [[UInt8]] = []
                            if let opened {
                                do {
                                    names = try opened.entries()
                                } catch let error as FileSystemError where error.errno == ENOENT && selection.isLiveDatabaseDirectory {
                                    names = []
                                } catch {
                                    warn("cannot back up: \(error)")
                                    names = []
                                }
                            }
                            if let opened { names = filtered(names, in: opened, node: node, parent: parent) }
                            statistics.directories += 1
                            let oldTree = old?.type == .directory ? try await loadOld(old) : nil
                            let dir = PendingDirectory(node: node, count: names.count, parent: parent, slot: slot)
                            for (i, name) in names.enumerated().reversed() {
                                stack.append(.real(dir: opened!, name: name, path: path.appending(name), old: oldTree?.node(named: name), parent: dir, slot: i))
                            }
                            if names.isEmpty { try await finish(dir, root: &rootTree) }
                        case .file:
                            let substitute = selection.contentSubstitutes[path.description].map(RawPath.init)
                            if substitute == nil, let reused = reusable(node: node, old: old) {
                                statistics.filesUnmodified += 1
                                statistics.totalFileBytes += Int64(node.sizeBytes)
                                var n = node
                                n.content = reused
                                noteReferenced(reused)
                                fileDone(path, bytesRead: 0)
                                try await complete(parent, slot: slot, with: n, root: &rootTree)
                            } else if substitute == nil, node.linkCount > 1, let content = hardlinkContent[HardlinkKey(device: node.device, inode: node.inode)] {
                                // Another name of a file read in this run: same content, counted like the first.
                                var n = node
                                n.content = content
                                if let old, old.type == .file {
                                    if old.content == content { statistics.filesUnmodified += 1 } else { statistics.filesChanged += 1 }
                                } else {
                                    statistics.filesNew += 1
                                }
                                statistics.totalFileBytes += Int64(node.sizeBytes)
                                fileDone(path, bytesRead: 0)
                                try await complete(parent, slot: slot, with: n, root: &rootTree)
                            } else {
                                let source = substitute.map(FileReader.Source.ownFile) ?? .entry(container, name: name, path: path)
                                let job = FileJob(number: nextJob, source: source, status: status)
                                waiting[nextJob] = WaitingFile(node: node, old: old, directory: parent, slot: slot, source: source, attempts: 1, isSubstitute: substitute != nil)
                                nextJob += 1
                                running += 1
                                let reader = self.reader
                                group.addTask { try await Self.runJob(job, reader: reader) }
                            }
                        default:
                            statistics.otherEntries += 1
                            try await complete(parent, slot: slot, with: node, root: &rootTree)
                        }
                    }
                }
                guard running > 0 else { break }
                // Wait for one file to finish before visiting more: the fan-out stays bounded.
                let done = try await group.next()!
                running -= 1
                var file = waiting.removeValue(forKey: done.number)!
                switch done.outcome {
                case .failure(let error):
                    if !(error.errno == ENOENT && selection.isLiveDatabaseDirectory) { warn("cannot back up: \(error)") }
                    try await complete(file.directory, slot: file.slot, with: nil, root: &rootTree)
                case .success(let outcome):
                    statistics.bytesRead += outcome.bytesRead
                    if outcome.changedWhileRead && file.attempts <= options.changedFileRetries && !selection.isLiveDatabaseDirectory {
                        file.attempts += 1
                        let job = FileJob(number: done.number, source: file.source, status: outcome.status)
                        waiting[done.number] = file
                        running += 1
                        let reader = self.reader
                        group.addTask { try await Self.runJob(job, reader: reader) }
                        continue
                    }
                    if outcome.changedWhileRead && !selection.isLiveDatabaseDirectory {
                        warn("\(file.path) changed while it was read (\(file.attempts) attempts): the stored copy may mix old and new content")
                    }
                    var n = file.node
                    n.content = outcome.content
                    n.sizeBytes = UInt64(outcome.bytesRead)
                    if !file.isSubstitute {
                        if outcome.isReplacement {
                            // Another file took the name after the walk looked: record the file read.
                            let s = outcome.status
                            (n.mode, n.uid, n.gid, n.inode, n.device, n.linkCount) = (s.mode, s.uid, s.gid, s.inode, s.device, s.linkCount)
                            n.xattrs = outcome.xattrs
                        }
                        n.mtime = recordable(outcome.status.mtime, "mtime", of: file.path, alreadyStoredAs: file.node.mtime)
                        n.ctime = recordable(outcome.status.ctime, "ctime", of: file.path, alreadyStoredAs: file.node.ctime)
                    }
                    if let old = file.old, old.type == .file {
                        if old.content == n.content { statistics.filesUnmodified += 1 } else { statistics.filesChanged += 1 }
                    } else {
                        statistics.filesNew += 1
                    }
                    statistics.totalFileBytes += Int64(n.sizeBytes)
                    if n.linkCount > 1 { hardlinkContent[HardlinkKey(device: n.device, inode: n.inode)] = n.content }
                    noteReferenced(n.content)
                    fileDone(file.path, bytesRead: outcome.bytesRead)
                    try await complete(file.directory, slot: file.slot, with: n, root: &rootTree)
                }
            }
        }
        guard let rootTree else { throw BackupError.noPaths }
        return rootTree
    }

    /// A file that cannot be read is the file's problem (a warning); any other error
    /// (the repository failing, cancellation) is the backup's and ends it.
    private static func runJob(_ job: FileJob, reader: FileReader) async throws -> FileJobResult {
        do {
            return FileJobResult(number: job.number, outcome: .success(try await reader.read(job.source, expected: job.status)))
        } catch let e as FileSystemError {
            return FileJobResult(number: job.number, outcome: .failure(e))
        }
    }

    // MARK: - Directories

    private mutating func complete(_ dir: PendingDirectory, slot: Int, with node: Node?, root: inout BlobID?) async throws {
        dir.slots[slot] = node
        dir.pending -= 1
        if dir.pending == 0 { try await finish(dir, root: &root) }
    }

    private mutating func finish(_ dir: PendingDirectory, root: inout BlobID?) async throws {
        let tree = Tree(nodes: dir.slots.compactMap { $0 })
        let (id, _) = try await writer.save(tree.encoded(), type: .tree)
        referencedBlobs.insert(id)
        guard let parent = dir.parent else {
            root = id
            return
        }
        var node = dir.node
        node?.subtree = id
        try await complete(parent, slot: dir.slot, with: node, root: &root)
    }

    private func loadOld(_ old: Node?) async throws -> Tree? {
        guard let old, old.type == .directory, let subtree = old.subtree, index.contains(subtree) else { return nil }
        return try await repository.loadTree(subtree, index: index)
    }

    // MARK: - Entries

    /// The node of the entry `path` in `parent`; `opened` is the entry itself when it is a
    /// directory the walk opened (its attributes are read through it).
    private mutating func makeNode(path: RawPath, status: FileStatus, parent: DirectoryHandle, opened: DirectoryHandle?) throws -> Node {
        let name = path.lastComponent
        var node = Node(
            nameBytes: name, type: status.type, mode: status.mode, uid: status.uid, gid: status.gid,
            mtime: recordable(status.mtime, "mtime", of: path), ctime: recordable(status.ctime, "ctime", of: path),
            sizeBytes: status.type == .file ? status.sizeBytes : 0, inode: status.inode, device: status.device, linkCount: status.linkCount)
        switch status.type {
        case .symlink: node.linkTarget = try parent.linkTarget(of: name)
        case .characterDevice, .blockDevice: node.deviceNumber = status.deviceNumber
        default: break
        }
        if status.type != .symlink {
            do {
                if let opened {
                    node.xattrs = try Directory.extendedAttributes(fd: opened.fd, shownAs: path)
                } else {
                    node.xattrs = try parent.extendedAttributes(of: name)
                }
            } catch {
                warn("cannot read the extended attributes of \(path): \(error)")
            }
        }
        return node
    }

    /// `time` if a tree can hold it, else the nearest time it can, with a warning (a tree
    /// records nanoseconds in an `i64`: 1677 to 2262); `alreadyStoredAs` is what the
    /// walk stored before reading the file, so that one file is warned about once.
    private mutating func recordable(_ time: FileTime, _ which: String, of path: RawPath, alreadyStoredAs stored: FileTime? = nil) -> FileTime {
        guard !time.isRecordable else { return time }
        let clamped = time.clampedToRecordable
        if clamped != stored {
            warn(
                "\(path): its \(which) (\(time.seconds) s and \(time.nanoseconds) ns after 1970) lies outside what a snapshot records "
                    + "(1677-09-21 to 2262-04-11); stored as the nearest time it holds")
        }
        return clamped
    }

    /// The parent's content for an unchanged file, when INCREMENTAL may reuse it.
    private func reusable(node: Node, old: Node?) -> [BlobID]? {
        guard reuseUnchanged, let old, old.type == .file, old.sizeBytes == node.sizeBytes, old.mtime == node.mtime,
            old.ctime == node.ctime, old.inode == node.inode
        else { return nil }
        if old.sizeBytes > 0 && old.content.isEmpty { return nil }
        for id in old.content where !writer.contains(id) { return nil }
        return old.content
    }

    private func isExcluded(_ path: RawPath) -> Bool {
        let ignoringCase = options.filters.excludesIgnoringCase
        guard !excludes.isEmpty || !ignoringCase.isEmpty else { return false }
        let full = path.description
        let name = String(decoding: path.lastComponent, as: UTF8.self)
        for pattern in excludes {
            let subject = pattern.contains("/") ? full : name
            if ShellPattern.matches(pattern, subject) { return true }
        }
        for pattern in ignoringCase {
            let subject = pattern.contains("/") ? full : name
            if ShellPattern.matches(pattern, subject, ignoringCase: true) { return true }
        }
        return false
    }

    /// The entries of a listed folder that the filters keep: none below a mount point
    /// (one file system), only the marker in a folder that holds one.
    private func filtered(_ names: [[UInt8]], in folder: DirectoryHandle, node: Node, parent: PendingDirectory) -> [[UInt8]] {
        let filters = options.filters
        if filters.oneFileSystem, !parent.isAboveTargets, let outer = parent.node, outer.device != node.device {
            return []
        }
        for marker in filters.excludeIfPresent.map({ Array($0.utf8) }) where names.contains(marker) {
            return [marker]
        }
        if filters.excludeCaches, names.contains(FileFilters.cacheTagName), Self.isCacheTag(FileFilters.cacheTagName, in: folder) {
            return [FileFilters.cacheTagName]
        }
        return names
    }

    /// A cache tag counts only with its signature: a file that merely has the name does not hide a folder.
    private static func isCacheTag(_ name: [UInt8], in folder: DirectoryHandle) -> Bool {
        let fd = folder.openEntry(name, flags: O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let signature = FileFilters.cacheTagSignature
        var head = [UInt8](repeating: 0, count: signature.count)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, signature.count) }
        return n == signature.count && head == signature
    }

    private mutating func noteReferenced(_ content: [BlobID]) {
        guard !reuseUnchanged else { return }
        referencedBlobs.formUnion(content)
    }

    /// FULL promises that every blob it refers to exists, including those deduplicated
    /// against earlier runs: check that their packs are present in the location.
    func confirmReferencedPacksExist() async throws {
        let present = Set(try await repository.backend.list(.data).map(\.name.name))
        for id in referencedBlobs {
            guard let loc = index.location(of: id) else { continue }  // written by this run, just flushed
            if !present.contains(loc.pack.hex) {
                throw RepositoryError.damaged(ObjectName(.data, loc.pack), reason: "missing, but blob \(id.shortHex) refers to it")
            }
        }
    }

    private mutating func warn(_ message: String) {
        warnings.append(message)
        progress?.yield(.warning(message))
    }

    /// Progress every 32 files or 16 MiB: a yield per file wakes the reader's thread for
    /// each of thousands of small files (a tenth of a backup's thread switches), and a
    /// terminal line cannot show them anyway.
    private mutating func fileDone(_ path: RawPath, bytesRead: Int64) {
        filesDone += 1
        bytesDone += bytesRead
        guard filesDone - filesReported >= 32 || bytesDone - bytesReported >= 16 << 20 || filesDone == 1 else { return }
        (filesReported, bytesReported) = (filesDone, bytesDone)
        progress?.yield(.fileDone(path: path.description, bytesRead: bytesRead, filesDone: filesDone, bytesDone: bytesDone))
    }
}
