import Foundation

/// Backs up one ``BackupSource`` into a snapshot: the one path every source takes
/// (DESIGN §6), whatever its kind.
///
/// 1. The source's check (``BackupSource/check(_:)``); nothing is written.
/// 2. Under a shared lock: the parent (the newest snapshot of the same source, paths and
///    host; a TRANSACTION_LOG's is its base backup), the type (INCREMENTAL when there is a
///    parent, unless one was asked for), and the source's read: its files are stored by
///    ``FileTreeBackup``, or nothing is (a TRANSACTION_LOG proves archived WAL).
/// 3. The source's finish, then the WAL it names is awaited in this repository's archive
///    (and, for a TRANSACTION_LOG, checked for gaps since the base).
/// 4. The post-backup read-back, when asked, and the snapshot, last (``SnapshotAssembler``).
///
/// A TRANSACTION_LOG writes nothing before its WAL is proven archived.
public struct SourceBackup: Sendable {
    /// Where the snapshot goes.
    public let repository: Repository

    /// A backup into `repository`.
    public init(repository: Repository) {
        self.repository = repository
    }

    /// Checks `source`, backs it up and releases what the check held.
    /// - Parameter progress: receives events; it may drop them, never blocks the backup.
    /// - Throws: the source's error when its check or read fails, ``BackupError`` when the
    ///   read-back finds damage, ``RepositoryError`` or a storage error when the repository fails.
    public func backup(
        _ source: any BackupSource, options: BackupOptions, progress: AsyncStream<BackupProgress>.Continuation? = nil
    ) async throws -> BackupResult {
        let checked = try await check(source, options: options)
        defer { checked.discard() }
        return try await backup(checked, options: options, progress: progress)
    }

    /// The pre-backup check alone; nothing is written. The caller backs up what it returns
    /// and then discards it (``CheckedBackupSource/discard()``).
    /// - Throws: the source's error naming what failed.
    public func check(_ source: any BackupSource, options: BackupOptions) async throws -> any CheckedBackupSource {
        let repository = self.repository
        let (requested, host) = (options.type, options.host)
        let context = BackupSourceContext(type: options.type, scratchDirectory: options.scratchDirectory) { source, paths in
            if let requested { return requested }
            let parent = try await SourceBackup(repository: repository).parent(of: source, paths: paths, host: host)
            return parent == nil ? .full : .incremental
        }
        return try await source.check(context)
    }

    /// Backs up a checked source under a shared lock.
    /// - Parameter progress: receives events; it may drop them, never blocks the backup.
    /// - Throws: as the backup of a source, less the check's errors.
    public func backup(
        _ checked: any CheckedBackupSource, options: BackupOptions, progress: AsyncStream<BackupProgress>.Continuation? = nil
    ) async throws -> BackupResult {
        try await RepositoryLock.withLock(repository, exclusive: false, host: options.host, username: options.username) {
            try await run(checked, options: options, progress: progress)
        }
    }

    /// The newest snapshot `checked` may follow: of the same source, paths and host, or for
    /// a TRANSACTION_LOG the newest base backup of the source (a TRANSACTION_LOG snapshot
    /// holds no files, so it is never a parent).
    func parent(
        of source: Snapshot.Source, paths: [String], host: String, type: BackupType? = nil,
        accepting accepts: (Snapshot) -> Bool = { _ in true }
    ) async throws -> SnapshotEntry? {
        try await parentAndDamaged(of: source, paths: paths, host: host, type: type, accepting: accepts).parent
    }

    /// As ``parent(of:paths:host:type:accepting:)``, with the snapshots that could not be
    /// considered because they are damaged (any of them may have been the parent).
    private func parentAndDamaged(
        of source: Snapshot.Source, paths: [String], host: String, type: BackupType?, accepting accepts: (Snapshot) -> Bool
    ) async throws -> (parent: SnapshotEntry?, damaged: [String]) {
        let (all, damaged) = try await repository.listSnapshots()
        let parent = all.last {
            $0.snapshot.source == source && $0.snapshot.type != .transactionLog
                && (type == .transactionLog || ($0.snapshot.paths == paths && $0.snapshot.host == host)) && accepts($0.snapshot)
        }
        return (parent, damaged)
    }

    private func run(
        _ checked: any CheckedBackupSource, options: BackupOptions, progress: AsyncStream<BackupProgress>.Continuation?
    ) async throws -> BackupResult {
        // The parent's trees may be sealed with a key another process wrote since this one opened.
        try await repository.refreshDataKeys()
        var assembler = SnapshotAssembler(repository: repository, options: options)
        let requested = checked.type ?? options.type
        let (parent, damaged) = try await parentAndDamaged(of: checked.source, paths: checked.paths, host: options.host, type: requested) {
            checked.accepts(parent: $0)
        }
        let type = requested ?? (parent == nil ? .full : .incremental)
        var index = try await repository.loadIndex()
        // A damaged snapshot cannot be weighed as the parent: the backup goes on without it
        // (it restores on its own either way), but the damage is reported, not passed over.
        var runWarnings = damaged.map { "\($0): it was not considered as this backup's parent; check the repository" }
        // Deduplicating against a blob whose pack is gone would make a snapshot that cannot
        // be restored: such blobs count as absent, and this run stores them again.
        let (missingPacks, blobsDropped) = index.dropEntriesInMissingPacks()
        if !missingPacks.isEmpty {
            runWarnings.append(
                "\(missingPacks.count) indexed pack\(missingPacks.count == 1 ? " is" : "s are") missing from the location (\(missingPacks.prefix(3).map(\.shortHex).joined(separator: ", "))\(missingPacks.count > 3 ? ", …" : "")): \(blobsDropped) blobs in them were stored again where this backup needed them; check the repository, as older snapshots may need them too"
            )
        }

        var stored: FileTreeBackup.Stored?
        var writer: BlobWriter?
        var excludes: [String] = []
        var database: DatabaseFacts?
        switch try await checked.start(after: parent?.snapshot) {
        case .files(let selection):
            progress?.yield(.started(paths: checked.paths, type: type, parent: parent?.id))
            let w = try await BlobWriter(repository: repository, index: index, now: assembler.started, compression: options.compression)
            writer = w
            excludes = options.excludes + selection.excludes + options.filters.recorded
            database = selection.database
            stored = try await FileTreeBackup(repository: repository).store(
                selection, type: type, parent: parent, index: index, writer: w, options: options, progress: progress)
        case .archivedWal:
            break
        case .stream(let fd, let name):
            progress?.yield(.started(paths: checked.paths, type: type, parent: parent?.id))
            let w = try await BlobWriter(repository: repository, index: index, now: assembler.started, compression: options.compression)
            writer = w
            stored = try await FileTreeBackup(repository: repository).storeStream(fd, name: name, writer: w, options: options)
        }

        let completion = try await checked.finish(after: parent?.snapshot)
        let walDetails = try await awaitWal(completion, type: type, parent: parent, timeout: options.archiveTimeout)

        if stored == nil {
            // Nothing was read: the snapshot's tree is empty, written only now that the WAL is proven.
            let w = try await BlobWriter(repository: repository, index: index, now: assembler.started)
            writer = w
            let (tree, _) = try await w.save(Tree(nodes: []).encoded(), type: .tree)
            try await w.flush()
            stored = FileTreeBackup.Stored(root: tree, statistics: Snapshot.Statistics(), warnings: [])
        }
        guard var stored, let writer else { preconditionFailure("a backup stores a tree before its snapshot") }
        stored.warnings = runWarnings + stored.warnings
        if options.readsBack { try await assembler.readBack(writer) }
        if let walDetails { assembler.passed(walDetails) }
        return try await assembler.save(
            checked, type: type, parent: parent, stored: stored, excludes: excludes, database: database, postgres: completion.postgres,
            writer: writer)
    }

    /// Waits for the WAL the source named; for a TRANSACTION_LOG, also checks that the
    /// archive has no gap from its base backup's start. Returns the post check's words.
    private func awaitWal(
        _ completion: BackupSourceCompletion, type: BackupType, parent: SnapshotEntry?, timeout: Duration
    ) async throws -> String? {
        guard let first = completion.requiredWal.first, let last = completion.requiredWal.last else { return nil }
        let archive = WalArchive(repository: repository)
        try await archive.awaitArchived(completion.requiredWal, timeout: timeout)
        guard type == .transactionLog else {
            return "WAL \(first.name)…\(last.name) (\(completion.requiredWal.count) segments) archived in this repository"
        }
        guard let base = parent?.snapshot.postgres, let facts = completion.postgres else {
            throw PostgreSQLSourceError.noBaseBackup(parent?.snapshot.paths.first ?? "the source")
        }
        let (missing, count) = try await archive.missingSegments(
            from: base.startLSN, firstTimeline: base.timeline, to: last, segmentBytes: facts.walSegmentBytes)
        guard missing.isEmpty else { throw PostgreSQLSourceError.walNotArchived(missing: missing, location: repository.location) }
        return "no gap in \(count) WAL segments from \(base.startWal) to \(last.name)"
    }
}
