import Foundation

/// What to back up and how; plain values filled in by the CLI or the server.
public struct BackupOptions: Sendable {
    /// Absolute paths of the local filesystem, for ``FileTreeBackup``; a ``BackupSource`` names its own.
    public var paths: [String]
    /// `nil` chooses INCREMENTAL when an earlier snapshot of the same paths exists, FULL otherwise.
    public var type: BackupType?
    /// Tags for the snapshot.
    public var tags: [String] = []
    /// Glob patterns: a pattern with a `/` matches whole paths, one without matches names;
    /// they add to those of the source.
    public var excludes: [String] = []
    /// Case-insensitive excludes, marker files, caches, other file systems.
    public var filters = FileFilters()
    /// How hard blobs are compressed.
    public var compression = CompressionMode.auto
    /// The host the snapshot and the lock name.
    public var host: String
    /// The user the snapshot and the lock name.
    public var username: String
    /// Recorded in the snapshot.
    public var programVersion: String = "dev"
    /// File workers running at once; each holds at most one read window (9 MiB).
    public var fileWorkers: Int = max(2, ProcessInfo.processInfo.activeProcessorCount + 1)
    /// How often a file that keeps changing while read is read again before it is reported.
    public var changedFileRetries: Int = 2
    /// Post-backup integrity verification: every pack and index segment this run wrote is
    /// read back and checked before the snapshot is written (``Checker/readBack(_:)``).
    /// ``BackupPipeline`` always turns it on.
    public var readsBack = false
    /// Where a source may make what its check needs (SQLite's copy, as large as the database).
    public var scratchDirectory: String = NSTemporaryDirectory()
    /// PostgreSQL: how long to wait for the WAL a backup needs to reach this repository's archive.
    public var archiveTimeout: Duration = .seconds(300)
    /// Tests only: called with each entry's path after the walk looked at it and before it
    /// is opened (a directory listed, a file read), to change the tree at that moment.
    var afterLook: (@Sendable (RawPath) -> Void)?

    /// Options for a backup of `paths`; `type` nil lets the backup choose.
    public init(paths: [String], type: BackupType? = nil, host: String, username: String) {
        self.paths = paths
        self.type = type
        self.host = host
        self.username = username
    }
}

/// What a finished backup reports.
public struct BackupResult: Sendable {
    /// The id of the snapshot written.
    public let snapshotID: SnapshotID
    /// The snapshot written.
    public let snapshot: Snapshot
    /// What could not be read, as the snapshot records it.
    public var warnings: [String] { snapshot.warnings }
}

/// Progress of a backup, for a terminal or metrics. Delivered through an
/// `AsyncStream` that drops old events rather than slowing the backup.
public enum BackupProgress: Sendable {
    case started(paths: [String], type: BackupType, parent: SnapshotID?)
    case fileDone(path: String, bytesRead: Int64, filesDone: Int, bytesDone: Int64)
    case warning(String)
}
