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
        let prepared = try await prepare(databasePath: databasePath, options: options, scratchDirectory: scratchDirectory)
        defer { prepared.discard() }
        return try await backup(prepared, progress: progress)
    }

    /// A checked consistent copy waiting to be backed up: the pre-backup check is done,
    /// nothing is written yet. ``discard()`` removes the copy.
    public struct Prepared: Sendable {
        public let path: String
        public let copy: SQLiteSource.Copy
        let scratch: String
        let options: BackupOptions

        /// The pre-backup check, as the snapshot records it.
        public var preCheck: Snapshot.CheckOutcome {
            Snapshot.CheckOutcome(
                passed: true, details: "\(copy.facts.check): \(copy.facts.checkResult); \(copy.facts.pageCount) pages of \(copy.facts.pageSize) bytes")
        }

        public func discard() {
            try? FileManager.default.removeItem(atPath: scratch)  // scratch copy: nothing to keep
        }
    }

    /// Makes and checks the consistent copy (the pre-backup check).
    /// - Throws: ``SQLiteSourceError`` when the database cannot be read or fails its check.
    public func prepare(databasePath: String, options: BackupOptions, scratchDirectory: String = NSTemporaryDirectory()) async throws -> Prepared {
        let path = try Archiver.normalize([databasePath])[0]
        // INCREMENTAL when there is a parent, as for files; the type decides the check's depth.
        let hasParent = try await repository.snapshots().contains { $0.snapshot.source == .sqlite(path) && $0.snapshot.host == options.host }
        var o = options
        o.type = options.type ?? (hasParent ? .incremental : .full)
        let scratch = scratchDirectory + "/lifeboat-sqlite-\(Digest256.random().hex.prefix(12))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            let copy = try SQLiteSource(path: path).consistentCopy(in: scratch, thorough: o.type == .full)
            return Prepared(path: path, copy: copy, scratch: scratch, options: o)
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)  // scratch copy: nothing to keep
            throw error
        }
    }

    /// Backs up a prepared copy in the database file's name and place.
    public func backup(_ prepared: Prepared, progress: AsyncStream<BackupProgress>.Continuation? = nil) async throws -> BackupResult {
        var o = prepared.options
        o.paths = [prepared.path]
        o.source = .sqlite(prepared.path)
        o.contentSubstitutes = [prepared.path: prepared.copy.path]
        o.database = prepared.copy.facts
        o.preCheck = prepared.preCheck
        return try await Archiver(repository: repository).backup(o, progress: progress)
    }
}
