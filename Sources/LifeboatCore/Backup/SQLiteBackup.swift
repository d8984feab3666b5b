import Foundation

/// A backup of a live SQLite database: a consistent, checked copy (``SQLiteSource``) is
/// made in a scratch directory and backed up in the database file's name and place, with
/// its facts (page count, rows per table, check result) recorded in the snapshot.
/// The database file is chunked on page boundaries, so a few changed pages store a few
/// small blobs. A failed pre-backup check stops everything before anything is written.
public struct SQLiteBackup: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    /// - Parameters:
    ///   - databasePath: the live database file.
    ///   - options: as for files; `paths` is replaced by the database's path.
    ///   - scratchDirectory: where the copy is made (as large as the database); removed after.
    public func backup(
        databasePath: String, options: BackupOptions, scratchDirectory: String = NSTemporaryDirectory(),
        progress: AsyncStream<BackupProgress>.Continuation? = nil
    ) async throws -> BackupResult {
        let path = try Archiver.normalize([databasePath])[0]
        // INCREMENTAL when there is a parent, as for files; the type decides the check's depth.
        let hasParent = try await repository.snapshots().contains { $0.snapshot.source == .sqlite(path) && $0.snapshot.host == options.host }
        let type = options.type ?? (hasParent ? .incremental : .full)
        let scratch = scratchDirectory + "/lifeboat-sqlite-\(Digest256.random().hex.prefix(12))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: scratch) }  // scratch copy: nothing to keep
        let copy = try SQLiteSource(path: path).consistentCopy(in: scratch, thorough: type == .full)
        var o = options
        o.paths = [path]
        o.type = type
        o.source = .sqlite(path)
        o.contentSubstitutes = [path: copy.path]
        o.database = copy.facts
        o.preCheck = Snapshot.CheckOutcome(
            passed: true, details: "\(copy.facts.check): \(copy.facts.checkResult); \(copy.facts.pageCount) pages of \(copy.facts.pageSize) bytes")
        return try await Archiver(repository: repository).backup(o, progress: progress)
    }
}
