import Foundation

/// The entry point PostgreSQL backups had before the one backup path, kept so that callers
/// written against it (tests and Operations code on other branches) build until they move
/// to ``SourceBackup`` with a ``PostgreSQLSource``; it only forwards there.
@available(*, deprecated, message: "back up a PostgreSQLSource through SourceBackup or BackupPipeline")
public struct PostgreSQLBackup: Sendable {
    /// Where the snapshot goes.
    public let repository: Repository

    /// A backup into `repository`.
    public init(repository: Repository) {
        self.repository = repository
    }

    /// Now ``PostgreSQLSource/Checkpoint``.
    public typealias Checkpoint = PostgreSQLSource.Checkpoint

    /// The settings that are now the source's (`dataDirectory`, `checkpoint`) and the
    /// options' (`archiveTimeout`).
    public struct Options: Sendable {
        /// The cluster.
        public var source: PostgreSQLSource
        /// The data directory on this host; nil takes the server's `data_directory`.
        public var dataDirectory: String?
        /// How `pg_backup_start` checkpoints.
        public var checkpoint: Checkpoint = .spread
        /// How long to wait for WAL to reach the archive.
        public var archiveTimeout: Duration = .seconds(300)
        /// Everything else.
        public var backup: BackupOptions

        /// Settings for a backup of `source`.
        public init(source: PostgreSQLSource, backup: BackupOptions) {
            self.source = source
            self.backup = backup
        }
    }

    /// ``SourceBackup/backup(_:options:progress:)`` of the source the options describe.
    /// - Throws: as ``SourceBackup``.
    public func backup(_ options: Options, progress: AsyncStream<BackupProgress>.Continuation? = nil) async throws -> BackupResult {
        var source = options.source
        source.dataDirectory = options.dataDirectory
        source.checkpoint = options.checkpoint
        var backup = options.backup
        backup.archiveTimeout = options.archiveTimeout
        return try await SourceBackup(repository: repository).backup(source, options: backup, progress: progress)
    }
}
