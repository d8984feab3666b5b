import Foundation

/// The backup types of DESIGN §4. Raw values are the names users and the catalog see.
public enum BackupType: String, Codable, Sendable, CaseIterable {
    case full = "FULL"
    case incremental = "INCREMENTAL"
    case transactionLog = "TRANSACTION_LOG"
    case configuration = "CONFIGURATION"
}

/// A snapshot manifest, stored sealed as `snapshots/<sha256>`; the snapshot's id is that
/// SHA-256, so a snapshot can never be altered without changing its id.
public struct Snapshot: Codable, Sendable {
    public var version: Int = 1
    public var time: Date
    public var endTime: Date
    public var type: BackupType
    public var source: Source
    public var paths: [String]
    public var tags: [String]
    public var host: String
    public var username: String
    public var parent: SnapshotID?
    public var tree: BlobID
    public var dataKey: DataKeyID
    public var programVersion: String
    public var excludes: [String]
    public var statistics: Statistics
    public var checks: Checks
    /// Files that could not be read or changed while being read, with the reason.
    public var warnings: [String]
    /// For database sources: what the database looked like at the backup.
    public var database: DatabaseFacts?
    /// For PostgreSQL sources: WAL positions, timeline, cluster identity and backup label.
    public var postgres: PostgreSQLFacts?

    /// Every field but the version: for writers outside the engine (the benchmarks'
    /// synthetic repositories), which the memberwise initializer cannot serve.
    package static func make(
        time: Date, type: BackupType, source: Source, paths: [String], host: String, username: String, tree: BlobID, dataKey: DataKeyID,
        programVersion: String, statistics: Statistics
    ) -> Snapshot {
        Snapshot(
            time: time, endTime: time, type: type, source: source, paths: paths, tags: [], host: host, username: username, parent: nil, tree: tree,
            dataKey: dataKey, programVersion: programVersion, excludes: [], statistics: statistics, checks: Checks(), warnings: [],
            database: nil, postgres: nil)
    }

    /// What was backed up: for now a set of paths of the local filesystem.
    public struct Source: Codable, Sendable, Equatable {
        public var kind: SourceKind
        public var name: String?

        public static let files = Source(kind: .files, name: nil)
        public static func sqlite(_ path: String) -> Source { Source(kind: .sqlite, name: path) }
        /// A PostgreSQL cluster, named by its data directory.
        public static func postgres(_ dataDirectory: String) -> Source { Source(kind: .postgres, name: dataDirectory) }
    }

    public struct Statistics: Codable, Sendable, Equatable {
        public var filesNew = 0
        public var filesChanged = 0
        public var filesUnmodified = 0
        public var directories = 0
        public var otherEntries = 0
        /// Bytes of file content read from the source.
        public var bytesRead: Int64 = 0
        /// Bytes of file content the snapshot holds (sum of file sizes).
        public var totalFileBytes: Int64 = 0
        /// Bytes written to packs for new blobs (sealed, after compression).
        public var bytesAdded: Int64 = 0
        public var blobsAdded = 0
        public var durationSeconds: Double = 0

        public init() {}
    }

    /// Pre- and post-backup check results recorded with the snapshot (DESIGN §3).
    public struct Checks: Codable, Sendable, Equatable {
        public var pre: CheckOutcome?
        public var post: CheckOutcome?
        public init(pre: CheckOutcome? = nil, post: CheckOutcome? = nil) {
            self.pre = pre
            self.post = post
        }
    }

    public struct CheckOutcome: Codable, Sendable, Equatable {
        public var passed: Bool
        public var details: String
        public init(passed: Bool, details: String) {
            self.passed = passed
            self.details = details
        }
    }
}

/// A snapshot with its id, as listings return it.
public struct SnapshotEntry: Sendable {
    public let id: SnapshotID
    public let snapshot: Snapshot
}
