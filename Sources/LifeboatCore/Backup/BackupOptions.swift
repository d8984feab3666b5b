import Foundation

/// What to back up and how; plain values filled in by the CLI or the server.
public struct BackupOptions: Sendable {
    /// Absolute paths of the local filesystem.
    public var paths: [String]
    /// `nil` chooses INCREMENTAL when an earlier snapshot of the same paths exists, FULL otherwise.
    public var type: BackupType?
    public var tags: [String] = []
    /// Glob patterns: a pattern with a `/` matches whole paths, one without matches names.
    public var excludes: [String] = []
    public var host: String
    public var username: String
    public var programVersion: String = "dev"
    /// File workers running at once; each holds at most one read window (9 MiB).
    public var fileWorkers: Int = max(2, ProcessInfo.processInfo.activeProcessorCount + 1)
    /// How often a file that keeps changing while read is read again before it is reported.
    public var changedFileRetries: Int = 2
    /// What the snapshot says it is a backup of.
    public var source: Snapshot.Source = .files
    /// Files whose content is read from another file: a database's consistent copy stands
    /// in for the live file, whose name and metadata the snapshot keeps.
    public var contentSubstitutes: [String: String] = [:]
    /// Recorded in the snapshot for database sources.
    public var database: DatabaseFacts?
    /// The pre-backup check, recorded in the snapshot.
    public var preCheck: Snapshot.CheckOutcome?
    /// Files of a running database whose log makes them consistent (a PostgreSQL data
    /// directory): a file that vanishes is skipped and one that changes while read is
    /// taken as read, without a warning or a second read.
    public var isLiveDatabaseDirectory = false
    /// Post-backup integrity verification: every pack and index segment this run wrote is
    /// read back and checked before the snapshot is written (``Checker/readBack(_:)``).
    public var readsBack = false
    /// Called after every file is stored and before the snapshot is written; what it
    /// returns is what is written. A throw ends the backup without a snapshot.
    public var completeSnapshot: (@Sendable (Snapshot) async throws -> Snapshot)?

    public init(paths: [String], type: BackupType? = nil, host: String, username: String) {
        self.paths = paths
        self.type = type
        self.host = host
        self.username = username
    }
}

/// What a finished backup reports.
public struct BackupResult: Sendable {
    public let snapshotID: SnapshotID
    public let snapshot: Snapshot
    public var warnings: [String] { snapshot.warnings }
}

/// Progress of a backup, for a terminal or metrics. Delivered through an
/// `AsyncStream` that drops old events rather than slowing the backup.
public enum BackupProgress: Sendable {
    case started(paths: [String], type: BackupType, parent: SnapshotID?)
    case fileDone(path: String, bytesRead: Int64, filesDone: Int, bytesDone: Int64)
    case warning(String)
}
