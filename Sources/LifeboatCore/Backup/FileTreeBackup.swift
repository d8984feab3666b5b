import Foundation

/// Backs up trees of the local filesystem: the read stage of every source that reads
/// files (a directory, a SQLite database's checked copy, a PostgreSQL data directory).
///
/// ``backup(_:progress:)`` is a whole backup of paths (``FilesSource`` through
/// ``SourceBackup``, the one path every source takes); ``SourceBackup`` calls
/// ``store(_:type:parent:index:writer:options:progress:)`` for whatever files a source
/// selected. See ``FileWalker`` for the walk.
///
/// Memory bound: `fileWorkers` read windows (9 MiB each, less for small files), one open
/// pack per blob type (~16 MiB for data, ~1 MiB for trees) and one pack being uploaded per worker.
public struct FileTreeBackup: Sendable {
    /// Where the snapshot goes.
    public let repository: Repository

    /// A backup into `repository`.
    public init(repository: Repository) {
        self.repository = repository
    }

    /// Backs up `options.paths` (less `options.excludes`) under a shared lock: checked
    /// (every path present and readable), read, and written as a snapshot.
    /// - Parameter progress: receives events; it may drop them, never blocks the backup.
    /// - Throws: ``BackupError`` when the paths fail their check or the read-back finds
    ///   damage, ``RepositoryError`` or a storage error when the repository fails.
    public func backup(_ options: BackupOptions, progress: AsyncStream<BackupProgress>.Continuation? = nil) async throws -> BackupResult {
        try await SourceBackup(repository: repository).backup(FilesSource(paths: options.paths), options: options, progress: progress)
    }

    /// What storing a tree of files left for the snapshot.
    struct Stored {
        var root: BlobID
        var statistics: Snapshot.Statistics
        var warnings: [String]
    }

    /// Walks and stores `selection`, then flushes the writer: after it returns, every blob
    /// the tree needs is durable and indexed. FULL also checks that the packs of the
    /// blobs it deduplicated against earlier runs are present.
    func store(
        _ selection: FileSelection, type: BackupType, parent: SnapshotEntry?, index: MasterIndex, writer: BlobWriter, options: BackupOptions,
        progress: AsyncStream<BackupProgress>.Continuation?
    ) async throws -> Stored {
        var walk = FileWalker(
            repository: repository, index: index, writer: writer, selection: selection, options: options, reuseUnchanged: type == .incremental,
            progress: progress)
        var parentTree: Tree?
        // A parent whose root tree is not indexed (its pack is gone) leaves nothing to reuse: every file is read.
        if let parent, index.contains(parent.snapshot.tree) { parentTree = try await repository.loadTree(parent.snapshot.tree, index: index) }
        // The walk lists, opens and reads files: on the blocking pool, with its readers (BlockingIOQueue).
        let root = try await BlockingIOQueue.withExecutor { [parentTree] in try await walk.run(paths: selection.paths, parentRoot: parentTree) }
        try await writer.flush()
        if type == .full {
            try await walk.confirmReferencedPacksExist()
        }
        return Stored(root: root, statistics: walk.statistics, warnings: walk.warnings)
    }

    /// Reads the stream `fd` to its end as the file `name` of a root tree of its own, then
    /// flushes the writer, as ``store(_:type:parent:index:writer:options:progress:)`` does.
    func storeStream(_ fd: Int32, name: String, writer: BlobWriter, options: BackupOptions) async throws -> Stored {
        let reader = FileReader(writer: writer, fileChunker: repository.makeChunker(), workers: 1)
        let (content, bytesRead) = try await BlockingIOQueue.withExecutor {
            try await reader.readStream(fd, shownAs: RawPath("<standard input: \(name)>"))
        }
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        let now = FileTime(seconds: Int64(clock.tv_sec), nanoseconds: Int64(clock.tv_nsec))
        let node = Node(
            nameBytes: Array(name.utf8), type: .file, mode: 0o100644, uid: getuid(), gid: getgid(), mtime: now, ctime: now,
            sizeBytes: UInt64(bytesRead), inode: 0, device: 0, linkCount: 1, content: content)
        let (root, _) = try await writer.save(Tree(nodes: [node]).encoded(), type: .tree)
        try await writer.flush()
        var statistics = Snapshot.Statistics()
        statistics.filesNew = 1
        statistics.bytesRead = bytesRead
        statistics.totalFileBytes = bytesRead
        return Stored(root: root, statistics: statistics, warnings: [])
    }
}
