import Foundation

/// Something Lifeboat backs up (DESIGN §4): a directory tree (``FilesSource``), a live
/// SQLite database (``SQLiteSource``) or a running PostgreSQL cluster (``PostgreSQLSource``).
///
/// Every source goes through the same three phases, driven by ``SourceBackup`` (and so by
/// ``BackupPipeline``), which alone knows the repository:
///
/// 1. **Check** (``check(_:)``): the pre-backup consistency check. Nothing is written
///    anywhere. What it returns is what the backup reads: SQLite's checked copy,
///    PostgreSQL's checked session; nothing is checked twice or read unchecked.
/// 2. **Read** (``CheckedBackupSource/start(after:)``): the source says which files of the
///    local filesystem to read, and how (PostgreSQL: after `pg_backup_start`).
/// 3. **Finish** (``CheckedBackupSource/finish(after:)``): once every file is stored and before
///    the snapshot is written, the source completes its consistency facts and names the
///    WAL the repository must hold (PostgreSQL: `pg_backup_stop`).
///
/// A source knows nothing about storage: it yields paths and consistency facts, and the
/// snapshot and repository side stays in `Backup/`.
public protocol BackupSource: Sendable {
    /// The source's kind as configurations and the catalog name it: `files`, `sqlite`, `postgres`.
    var kind: SourceKind { get }

    /// The pre-backup consistency check; nothing is written.
    /// - Parameter context: the type asked for, how to learn the type the backup will have, and scratch space.
    /// - Returns: the checked source, which the backup reads; ``CheckedBackupSource/discard()`` releases it.
    /// - Throws: the source's error (``BackupError``, ``SQLiteSourceError``, ``PostgreSQLSourceError``) naming what failed.
    func check(_ context: BackupSourceContext) async throws -> any CheckedBackupSource
}

/// What a source's check may ask of the backup that is about to run.
public struct BackupSourceContext: Sendable {
    /// The type asked for; nil lets the backup choose (INCREMENTAL when a parent exists).
    public var type: BackupType?
    /// Where a source may make what its check needs (SQLite's copy, as large as the database).
    public var scratchDirectory: String
    /// The type a backup of `source` with these `paths` will have: the one asked for, or
    /// INCREMENTAL when the repository holds an earlier snapshot of it, FULL otherwise.
    public var resolveType: @Sendable (_ source: Snapshot.Source, _ paths: [String]) async throws -> BackupType

    /// A context for one backup.
    public init(
        type: BackupType?, scratchDirectory: String,
        resolveType: @escaping @Sendable (_ source: Snapshot.Source, _ paths: [String]) async throws -> BackupType
    ) {
        self.type = type
        self.scratchDirectory = scratchDirectory
        self.resolveType = resolveType
    }
}

/// A source that passed its pre-backup check, holding what the check made (a copy, a
/// session) until ``discard()``.
public protocol CheckedBackupSource: Sendable {
    /// What the snapshot says it is a backup of.
    var source: Snapshot.Source { get }
    /// The paths the snapshot records, absolute and normalized: an INCREMENTAL's parent has the same.
    var paths: [String] { get }
    /// The type the check was made for; nil when the backup may choose.
    var type: BackupType? { get }
    /// The pre-backup check, as the snapshot records it.
    var preCheck: Snapshot.CheckOutcome { get }

    /// Whether an earlier snapshot of the same source may be this backup's parent (a
    /// PostgreSQL snapshot of another cluster in the same directory may not).
    func accepts(parent: Snapshot) -> Bool

    /// Starts the read and says what to read.
    /// - Parameter parent: the snapshot this one follows (a TRANSACTION_LOG's base backup), if any.
    /// - Throws: the source's error when it cannot be read (PostgreSQL: `pg_backup_start` refused).
    func start(after parent: Snapshot?) async throws -> BackupSourceRead

    /// Completes the source's side once everything read is stored, before the snapshot is written.
    /// - Parameter parent: as for ``start(after:)``.
    /// - Throws: the source's error (PostgreSQL: `pg_backup_stop` failed); no snapshot is written then.
    func finish(after parent: Snapshot?) async throws -> BackupSourceCompletion

    /// Releases what the check holds (a scratch copy, a session); called whatever happened.
    func discard()
}

extension CheckedBackupSource {
    /// Any earlier snapshot of the same source may be the parent.
    public func accepts(parent: Snapshot) -> Bool { true }
    /// Nothing to complete.
    public func finish(after parent: Snapshot?) async throws -> BackupSourceCompletion { BackupSourceCompletion() }
    /// Nothing to release.
    public func discard() {}
}

/// What a checked source asks the backup to read.
public enum BackupSourceRead: Sendable {
    /// Files of the local filesystem.
    case files(FileSelection)
    /// No files: the snapshot proves the WAL archived since its parent, the source's
    /// newest base backup (PostgreSQL's TRANSACTION_LOG), and holds an empty tree.
    case archivedWal
    /// One file whose bytes come from a stream (``StreamSource``: standard input), stored
    /// under its name at the snapshot's root.
    case stream(fileDescriptor: Int32, name: String)
}

/// Paths of the local filesystem to read, and how.
public struct FileSelection: Sendable {
    /// Absolute paths, normalized (``FilesSource/normalize(_:)``).
    public var paths: [String]
    /// Glob patterns: a pattern with a `/` matches whole paths, one without matches names.
    public var excludes: [String] = []
    /// Files whose content is read from another file: a database's consistent copy stands
    /// in for the live file, whose name and metadata the snapshot keeps.
    public var contentSubstitutes: [String: String] = [:]
    /// Files of a running database whose log makes them consistent (a PostgreSQL data
    /// directory): a file that vanishes is skipped and one that changes while read is
    /// taken as read, without a warning or a second read.
    public var isLiveDatabaseDirectory = false
    /// Recorded in the snapshot for database sources.
    public var database: DatabaseFacts?

    /// A selection of `paths`, read as they are.
    public init(paths: [String], excludes: [String] = []) {
        self.paths = paths
        self.excludes = excludes
    }
}

/// What a source adds when it finishes.
public struct BackupSourceCompletion: Sendable {
    /// PostgreSQL: the cluster's facts (positions, timeline, label) for the snapshot.
    public var postgres: PostgreSQLFacts?
    /// WAL the repository's archive must hold before the snapshot is written: without it
    /// the backup does not restore.
    public var requiredWal: [WalFileName] = []

    /// What a source adds; nothing by default.
    public init(postgres: PostgreSQLFacts? = nil, requiredWal: [WalFileName] = []) {
        self.postgres = postgres
        self.requiredWal = requiredWal
    }
}
