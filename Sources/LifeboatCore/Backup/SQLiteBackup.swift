import Foundation

/// The entry point SQLite backups had before the one backup path, kept so that callers
/// written against it (tests and Operations code on other branches) build until they move
/// to ``SourceBackup`` with a ``SQLiteSource``; it only forwards there.
@available(*, deprecated, message: "back up a SQLiteSource through SourceBackup or BackupPipeline")
public struct SQLiteBackup: Sendable {
    /// Where the snapshot goes.
    public let repository: Repository

    /// A backup into `repository`.
    public init(repository: Repository) {
        self.repository = repository
    }

    /// ``SourceBackup/backup(_:options:progress:)`` of `SQLiteSource(path: databasePath)`,
    /// its copy made in `scratchDirectory`.
    /// - Throws: as ``SourceBackup``.
    public func backup(
        databasePath: String, options: BackupOptions, scratchDirectory: String = NSTemporaryDirectory(),
        progress: AsyncStream<BackupProgress>.Continuation? = nil
    ) async throws -> BackupResult {
        var options = options
        options.scratchDirectory = scratchDirectory
        return try await SourceBackup(repository: repository).backup(SQLiteSource(path: databasePath), options: options, progress: progress)
    }
}
