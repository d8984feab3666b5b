import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One restore of a tree into a target (see ``Restorer``); it lives on the restore's own
/// task only.
///
/// Entries are named by the directory handle they live in and their name; what must be
/// found again later (directories' metadata, hardlinks) is kept as components below the
/// target and reopened from the target's handle one component at a time, never following
/// a symlink.
struct RestoreWalk {
    let repository: Repository
    let index: MasterIndex
    let options: RestoreOptions
    /// The target directory, opened once.
    let root: DirectoryHandle
    var result = RestoreResult()
    /// Directories restored, in the order made, as components below the target; their
    /// metadata is set in reverse.
    private var directories: [(components: [[UInt8]], node: Node)] = []
    private var hardlinks: [(existing: [[UInt8]], new: [[UInt8]], snapshotPath: String)] = []
    private var firstOfInode: [HardlinkKey: [[UInt8]]] = [:]
    private var damaged = Set<[[UInt8]]>()
    /// Files left as the target held them (``RestoreOptions/OverwritePolicy/never``): links to them are not made either.
    private var kept = Set<[[UInt8]]>()
    /// The chain of directories last reopened by ``reopen(_:)``, from the target down.
    private var reopened: [(name: [UInt8], handle: DirectoryHandle)] = []

    struct HardlinkKey: Hashable { let device: UInt64; let inode: UInt64 }

    /// A directory still to restore the entries of.
    private struct PendingTree {
        let tree: BlobID
        let directory: DirectoryHandle
        let components: [[UInt8]]
        let snapshotPath: String
        /// Whether an include already matched above.
        let isIncluded: Bool
        /// Whether this run made the directory, so that nothing in it can exist yet.
        let isFresh: Bool
    }

    init(repository: Repository, index: MasterIndex, options: RestoreOptions, root: DirectoryHandle) {
        self.repository = repository
        self.index = index
        self.options = options
        self.root = root
    }

    mutating func run(tree rootTree: BlobID) async throws {
        let options = self.options
        try await withThrowingTaskGroup(of: (RestoreContentWriter.Job, RestoreContentWriter.Outcome).self) { group in
            var running = 0
            var stack = [
                PendingTree(tree: rootTree, directory: root, components: [], snapshotPath: "", isIncluded: options.includes.isEmpty, isFresh: false)
            ]
            while let pending = stack.popLast() {
                try Task.checkCancellation()
                let tree: Tree
                do {
                    tree = try await repository.loadTree(pending.tree, index: index)
                } catch {
                    result.errors.append("\(pending.directory.path): the snapshot's listing of this folder is unreadable: \(error)")
                    continue
                }
                let dir = pending.directory
                var seen = Set<[UInt8]>()
                for node in tree.nodes {
                    let name = node.nameBytes
                    guard Restorer.isSafeName(name), seen.insert(name).inserted else {
                        result.errors.append("\(pending.directory.path)/\(node.name): unsafe or duplicate name in the snapshot, skipped")
                        continue
                    }
                    let components = pending.components + [name]
                    let snapshotPath = pending.snapshotPath + "/" + node.name
                    if options.isExcluded(snapshotPath, name: node.name) { continue }
                    let isIncluded = pending.isIncluded || options.isIncluded(snapshotPath, name: node.name)
                    switch node.type {
                    case .directory:
                        if isIncluded || options.hasIncludeBelow(snapshotPath) {
                            guard let (handle, made) = makeDirectory(name, in: dir, node: node, components: components, snapshotPath: snapshotPath) else { continue }
                            if let sub = node.subtree {
                                stack.append(
                                    PendingTree(
                                        tree: sub, directory: handle, components: components, snapshotPath: snapshotPath, isIncluded: isIncluded, isFresh: made))
                            }
                        }
                    case .file where isIncluded:
                        if node.linkCount > 1 {
                            let key = HardlinkKey(device: node.device, inode: node.inode)
                            if let first = firstOfInode[key] {
                                hardlinks.append((first, components, snapshotPath))
                                continue
                            }
                            firstOfInode[key] = components
                        }
                        // What the target holds there already meets the overwrite policy first.
                        if !pending.isFresh && options.overwrite != .always {
                            switch Self.existingFile(name, in: dir, node: node, index: index, repository: repository) {
                            case .absent: break
                            case .same:
                                result.filesUnchanged += 1
                                continue
                            case .different:
                                if options.overwrite == .never {
                                    keep(components)
                                    continue
                                }
                            }
                        }
                        if running >= options.fileWorkers, let (job, outcome) = try await group.next() {
                            running -= 1
                            record(job, outcome)
                        }
                        // Files are created here, one at a time: creating them from several
                        // tasks at once makes them contend for the directory's lock in the kernel.
                        // Where a file may exist already, the new one gets a temporary name until it is complete.
                        let created = create(name, in: dir, replacing: !pending.isFresh) { dir, name in
                            dir.openEntry(name, flags: O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
                        }
                        guard case .success(let (fd, temporaryName)) = created else {
                            if case .failure(let e) = created { result.errors.append("\(dir.path.appending(name)): open: \(String(cString: strerror(e.code)))") }
                            damaged.insert(components)
                            continue
                        }
                        running += 1
                        let job = RestoreContentWriter.Job(
                            directory: dir, name: name, temporaryName: temporaryName, components: components, snapshotPath: snapshotPath, node: node,
                            fd: fd)
                        let (repository, index) = (self.repository, self.index)
                        group.addTask {
                            (job, await RestoreContentWriter.write(job, repository: repository, index: index, options: options))
                        }
                    case .file:
                        continue
                    default:
                        if isIncluded { makeSpecial(name, in: dir, node: node, snapshotPath: snapshotPath, replacing: !pending.isFresh) }
                    }
                }
            }
            while let (job, outcome) = try await group.next() { record(job, outcome) }
        }
        for link in hardlinks { makeHardlink(link.existing, at: link.new, snapshotPath: link.snapshotPath) }
        for (components, node) in directories.reversed() {
            do {
                let handle = try reopen(components)
                if let problem = RestoreMetadata.apply(fd: handle.fd, path: handle.path, node: node, options: options) { result.errors.append(problem) }
            } catch {
                result.errors.append("\(display(components)): cannot set its owner, mode and times: \(error)")
            }
        }
    }

    private mutating func record(_ job: RestoreContentWriter.Job, _ outcome: RestoreContentWriter.Outcome) {
        switch outcome {
        case .written(let bytes, let verified):
            result.filesRestored += 1
            result.bytesWritten += bytes
            options.progress?.add(items: 1, bytes: bytes)
            if verified { result.filesVerified += 1 }
        case .damaged(let reason):
            damaged.insert(job.components)
            result.damagedFiles.append("\(job.path): \(reason)")
        case .verificationFailed(let reason):
            damaged.insert(job.components)
            result.verificationFailures += 1
            result.damagedFiles.append("\(job.path): verification failed: \(reason)")
        case .failed(let reason):
            damaged.insert(job.components)
            result.errors.append("\(job.path): \(reason)")
        }
    }

    private func display(_ components: [[UInt8]]) -> RawPath {
        components.reduce(root.path) { $0.appending($1) }
    }

    private mutating func keep(_ components: [[UInt8]]) {
        kept.insert(components)
        result.keptFiles.append("\(display(components))")
    }

    // MARK: - What the target holds already

    /// What the target holds under a name the snapshot restores.
    enum Existing { case absent, same, different }

    /// A file's name: absent, a regular file with exactly the snapshot's content (read and
    /// compared blob by blob), or anything else.
    static func existingFile(_ name: [UInt8], in dir: DirectoryHandle, node: Node, index: MasterIndex, repository: Repository) -> Existing {
        // O_NONBLOCK: a FIFO under that name must not hold the restore up.
        let fd = dir.openEntry(name, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        if fd == -ENOENT { return .absent }
        // A symlink (ELOOP) or an entry that cannot be read is not the snapshot's file.
        guard fd >= 0 else { return .different }
        defer { close(fd) }
        guard let status = try? FileStatus.fstat(fd, path: dir.path.appending(name)), status.type == .file, status.sizeBytes == node.sizeBytes else {
            return .different
        }
        return RestoreContentWriter.mismatch(fd, content: node.content, index: index, repository: repository) == nil ? .same : .different
    }

    /// A symlink's, FIFO's or device's name: absent, the same kind of entry (a symlink with
    /// the same target), or anything else.
    static func existingSpecial(_ name: [UInt8], in dir: DirectoryHandle, node: Node) -> Existing {
        let status: FileStatus
        do {
            status = try dir.status(of: name)
        } catch let error as FileSystemError {
            return error.errno == ENOENT ? .absent : .different
        } catch {
            return .different
        }
        guard status.type == node.type else { return .different }
        guard node.type == .symlink else { return .same }
        var buffer = [UInt8](repeating: 0, count: 4097)
        let n = buffer.withUnsafeMutableBytes { b in DirectoryHandle.withName(name) { readlinkat(dir.fd, $0, b.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) } }
        guard n >= 0 else { return .different }
        return Array(buffer.prefix(n)) == (node.linkTarget ?? []) ? .same : .different
    }

    // MARK: - Entries

    struct Errno: Error { let code: Int32 }

    /// Creates an entry with `make` (which returns a descriptor, 0 or -errno): under `name`
    /// itself, or, when `replacing`, under a fresh hidden name beside it, to be renamed
    /// over `name` once complete. Returns what `make` returned and the temporary name.
    private func create(
        _ name: [UInt8], in dir: DirectoryHandle, replacing: Bool, _ make: (DirectoryHandle, [UInt8]) -> Int32
    ) -> Result<(Int32, [UInt8]?), Errno> {
        guard replacing else {
            let r = make(dir, name)
            return r >= 0 ? .success((r, nil)) : .failure(Errno(code: -r))
        }
        while true {
            let temporary = Self.temporaryName()
            let r = make(dir, temporary)
            if r == -EEXIST { continue }  // another entry has this random name: draw again
            return r >= 0 ? .success((r, temporary)) : .failure(Errno(code: -r))
        }
    }

    /// `.lifeboat-restore-` and 16 random hex digits: hidden, and made with O_EXCL (or
    /// the like), so that it names nothing but what this restore made.
    static func temporaryName() -> [UInt8] {
        Array(".lifeboat-restore-".utf8) + Array(String(UInt64.random(in: .min ... .max), radix: 16).utf8)
    }

    /// Makes (or reuses) a directory and opens it; returns it and whether it is new, nil on failure.
    private mutating func makeDirectory(
        _ name: [UInt8], in dir: DirectoryHandle, node: Node, components: [[UInt8]], snapshotPath: String
    ) -> (DirectoryHandle, Bool)? {
        let made = DirectoryHandle.withName(name) { mkdirat(dir.fd, $0, 0o700) } == 0
        if !made && errno != EEXIST {
            result.errors.append("mkdir \(dir.path.appending(name)): \(String(cString: strerror(errno)))")
            return nil
        }
        let handle: DirectoryHandle
        do {
            // O_NOFOLLOW: whatever holds the name must be a directory itself, not a symlink to one.
            handle = try dir.openDirectory(name)
        } catch let error as FileSystemError where error.errno == ELOOP || error.errno == ENOTDIR {
            result.errors.append("\(dir.path.appending(name)): exists in the target and is not a folder; the snapshot's folder there was not restored")
            return nil
        } catch {
            result.errors.append("\(error)")
            return nil
        }
        // Usable by its owner until the end, when the recorded mode is set; an existing
        // directory that already is keeps its mode meanwhile (a restore in place must not
        // shut others out of /var while it runs).
        // (A status that cannot be read leaves the mode alone: fchmod would fail the same way.)
        if !made, let status = try? handle.status(), status.mode & 0o700 != 0o700 { _ = fchmod(handle.fd, mode_t(status.mode | 0o700)) }
        directories.append((components, node))
        result.directoriesRestored += 1
        return (handle, made)
    }

    private mutating func makeSpecial(_ name: [UInt8], in dir: DirectoryHandle, node: Node, snapshotPath: String, replacing: Bool) {
        let make: (DirectoryHandle, [UInt8]) -> Int32
        switch node.type {
        case .symlink:
            var target = node.linkTarget ?? []
            target.append(0)
            make = { dir, name in
                let r = target.withUnsafeBufferPointer { t in
                    DirectoryHandle.withName(name) { symlinkat(UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: CChar.self), dir.fd, $0) }
                }
                return r == 0 ? 0 : -errno
            }
        case .fifo:
            make = { dir, name in DirectoryHandle.withName(name) { mknodat(dir.fd, $0, S_IFIFO | 0o600, 0) } == 0 ? 0 : -errno }
        case .characterDevice, .blockDevice:
            guard options.restoreOwnership else {
                result.errors.append("\(dir.path.appending(name)): device nodes can only be made by root, skipped")
                return
            }
            let kind = node.type == .characterDevice ? S_IFCHR : S_IFBLK
            let device = dev_t(node.deviceNumber ?? 0)
            make = { dir, name in DirectoryHandle.withName(name) { mknodat(dir.fd, $0, kind | 0o600, device) } == 0 ? 0 : -errno }
        case .socket:
            // A socket belongs to the process that made it; there is nothing to restore.
            return
        default:
            return
        }
        if replacing && options.overwrite != .always {
            switch Self.existingSpecial(name, in: dir, node: node) {
            case .absent: break
            case .same: return
            case .different:
                if options.overwrite == .never {
                    result.keptFiles.append("\(dir.path.appending(name))")
                    return
                }
            }
        }
        switch create(name, in: dir, replacing: replacing, make) {
        case .failure(let e):
            result.errors.append("\(dir.path.appending(name)): \(String(cString: strerror(e.code)))")
        case .success(let (_, temporary)):
            let made = temporary ?? name
            if let problem = RestoreMetadata.apply(in: dir, name: made, shownAs: dir.path.appending(name), node: node, options: options) {
                result.errors.append(problem)
            }
            if let temporary, !rename(temporary, over: name, in: dir, snapshotPath: snapshotPath) { return }
            result.otherEntriesRestored += 1
        }
    }

    /// Renames what this restore made under `temporary` over `name`; on failure removes
    /// it, reports it and returns false.
    private mutating func rename(_ temporary: [UInt8], over name: [UInt8], in dir: DirectoryHandle, snapshotPath: String) -> Bool {
        let r = DirectoryHandle.withName(temporary) { t in DirectoryHandle.withName(name) { renameat(dir.fd, t, dir.fd, $0) } }
        if r != 0 {
            let e = errno
            DirectoryHandle.withName(temporary) { _ = unlinkat(dir.fd, $0, 0) }
            result.errors.append("\(dir.path.appending(name)): cannot replace what the target holds there: \(String(cString: strerror(e)))")
            return false
        }
        return true
    }

    private mutating func makeHardlink(_ existing: [[UInt8]], at new: [[UInt8]], snapshotPath: String) {
        if damaged.contains(existing) {
            result.damagedFiles.append("\(display(new)): hardlink to a file that could not be restored")
            return
        }
        if kept.contains(existing) {
            keep(new)
            return
        }
        do {
            let from = try reopen(existing.dropLast())
            let to = try reopen(new.dropLast())
            let (existingName, newName) = (existing.last!, new.last!)
            if options.overwrite != .always, let there = try? to.status(of: newName) {
                // Already this very file (the restore left the first name as it was): nothing to do.
                if let first = try? from.status(of: existingName), first.inode == there.inode && first.device == there.device { return }
                if options.overwrite == .never {
                    keep(new)
                    return
                }
            }
            // linkat without AT_SYMLINK_FOLLOW links the entry itself, never what a symlink there names.
            let made = create(newName, in: to, replacing: true) { to, name in
                DirectoryHandle.withName(existingName) { e in DirectoryHandle.withName(name) { linkat(from.fd, e, to.fd, $0, 0) } } == 0 ? 0 : -errno
            }
            switch made {
            case .failure(let e):
                result.errors.append("link \(display(new)): \(String(cString: strerror(e.code)))")
            case .success(let (_, temporary)):
                guard rename(temporary!, over: newName, in: to, snapshotPath: snapshotPath) else { return }
                // Renaming a link over another link of the same file does nothing and keeps both.
                DirectoryHandle.withName(temporary!) { _ = unlinkat(to.fd, $0, 0) }
                result.filesRestored += 1
            }
        } catch {
            result.errors.append("link \(display(new)): \(error)")
        }
    }

    /// Opens the directory at `components` below the target, one component at a time
    /// without following symlinks, reusing the chain opened last time (directories are
    /// revisited in an order where neighbours share most of their path).
    private mutating func reopen(_ components: some Collection<[UInt8]>) throws -> DirectoryHandle {
        var shared = 0
        for (a, b) in zip(reopened, components) {
            guard a.name == b else { break }
            shared += 1
        }
        reopened.removeLast(reopened.count - shared)
        for name in components.dropFirst(shared) {
            let handle = try (reopened.last?.handle ?? root).openDirectory(name)
            reopened.append((name, handle))
        }
        return reopened.last?.handle ?? root
    }
}
