import Foundation
import LifeboatCore

/// How a backup run ended (or that it has not).
public enum BackupStatus: String, Sendable, Codable, CaseIterable {
    case running = "RUNNING"
    case succeeded = "SUCCEEDED"
    /// The pre-backup consistency check failed: nothing was written.
    case failedPreCheck = "FAILED_PRECHECK"
    /// The post-backup read-back found damage: no snapshot was written.
    case failedVerification = "FAILED_VERIFICATION"
    case failed = "FAILED"
    /// The process ended while the row said RUNNING (found by a later run).
    case interrupted = "INTERRUPTED"
}

/// A backup's copy in one location.
public enum CopyStatus: String, Sendable, Codable, CaseIterable {
    /// Not there yet: the location was down, or the run stopped before copying.
    case pending = "PENDING"
    /// Copied and read back by name.
    case verified = "VERIFIED"
    /// Found in the location by `catalog rebuild`: present, not read back.
    case present = "PRESENT"
    /// Removed from the location by its retention policy.
    case forgotten = "FORGOTTEN"
}

public enum ScheduleType: String, Sendable, Codable, CaseIterable {
    case scheduled = "SCHEDULED"
    case manual = "MANUAL"
    case onChange = "ON_CHANGE"
}

/// A BackupLog row as callers see it.
public struct BackupRecord: Sendable, Codable, Equatable {
    public struct Check: Sendable, Codable, Equatable {
        public var passed: Bool
        public var details: String
    }

    public struct Copy: Sendable, Codable, Equatable {
        public var location: String
        public var role: LocationRole
        public var status: CopyStatus
        public var verifiedAt: Date?
        public var error: String?
        /// When the location was last pruned, as of reading the row (absent: never).
        public var lastPrunedAt: Date?
    }

    public struct RestoreTest: Sendable, Codable, Equatable {
        public var tested: Bool
        public var testedAt: Date?
        /// PASSED or FAILED.
        public var result: String?
        public var durationSeconds: Double?
        public var details: String?
        public var location: String?
    }

    public var id: UUID
    public var type: String
    public var scheduleType: String?
    public var source: String
    public var sourceKind: SourceKind
    public var status: BackupStatus
    public var stage: String?
    public var snapshotId: String?
    public var startedAt: Date
    public var finishedAt: Date?
    public var bytesRead: Int64?
    public var bytesAdded: Int64?
    public var files: Int?
    public var dataKeyId: String?
    public var checksum: String?
    public var requestedBy: String
    public var host: String
    public var pid: Int
    public var preCheck: Check?
    public var postCheck: Check?
    public var error: String?
    public var restoreTest: RestoreTest
    public var locations: [Copy]

    public var durationSeconds: Double? { finishedAt.map { $0.timeIntervalSince(startedAt) } }
}

/// A verification of a location, as `locations` reports the last one.
public struct LocationCheck: Sendable, Codable, Equatable {
    public var location: String
    public var checkedAt: Date
    public var errors: Int
    public var details: String?
}

/// A prune of a location, as `run` and `log` report the last one.
public struct LocationPrune: Sendable, Codable, Equatable {
    public var location: String
    public var prunedAt: Date
    public var packsDeleted: Int
    public var bytesFreed: Int64
    /// Why it failed; nil when it ran.
    public var error: String?

    public init(location: String, prunedAt: Date, packsDeleted: Int, bytesFreed: Int64, error: String?) {
        self.location = location
        self.prunedAt = prunedAt
        self.packsDeleted = packsDeleted
        self.bytesFreed = bytesFreed
        self.error = error
    }
}

/// What `lifeboat log` asks for; every field narrows the list.
public struct BackupFilter: Sendable {
    public var source: String?
    public var status: BackupStatus?
    public var since: Date?
    public var snapshotId: String?
    public var limit: Int?
    /// The type as recorded (FULL, INCREMENTAL, …).
    public var type: String?
    /// Only runs started before this time.
    public var until: Date?

    public init(
        source: String? = nil, status: BackupStatus? = nil, since: Date? = nil, snapshotId: String? = nil, limit: Int? = nil, type: String? = nil,
        until: Date? = nil
    ) {
        self.source = source
        self.status = status
        self.since = since
        self.snapshotId = snapshotId
        self.limit = limit
        self.type = type
        self.until = until
    }
}

extension BackupRecord {
    /// Each copy's location's last prune, from `prunes` (``Catalog/lastPrunes()``).
    func withPrunes(_ prunes: [String: LocationPrune]) -> BackupRecord {
        var record = self
        for i in record.locations.indices { record.locations[i].lastPrunedAt = prunes[record.locations[i].location]?.prunedAt }
        return record
    }

    init(_ m: BackupLogModel, copies: [BackupCopyModel]) {
        id = m.id!
        type = m.type
        scheduleType = m.scheduleType
        source = m.source
        // Rows are written from the enum; a kind this version does not know reads as files.
        sourceKind = SourceKind(rawValue: m.sourceKind) ?? .files
        status = BackupStatus(rawValue: m.status) ?? .failed
        stage = m.stage
        snapshotId = m.snapshotID
        startedAt = m.startedAt
        finishedAt = m.finishedAt
        bytesRead = m.bytesRead
        bytesAdded = m.bytesAdded
        files = m.files
        dataKeyId = m.dataKeyID
        checksum = m.checksum
        requestedBy = m.requestedBy
        host = m.host
        pid = m.pid
        preCheck = m.preCheckPassed.map { Check(passed: $0, details: m.preCheckDetails ?? "") }
        postCheck = m.postCheckPassed.map { Check(passed: $0, details: m.postCheckDetails ?? "") }
        error = m.error
        restoreTest = RestoreTest(
            tested: m.restoreTested, testedAt: m.restoreTestedAt, result: m.restoreTestResult, durationSeconds: m.restoreTestSeconds,
            details: m.restoreTestDetails, location: m.restoreTestLocation)
        locations = copies.sorted { $0.location < $1.location }.map {
            Copy(location: $0.location, role: LocationRole(rawValue: $0.role) ?? .secondary, status: CopyStatus(rawValue: $0.status) ?? .pending, verifiedAt: $0.verifiedAt, error: $0.error,
                lastPrunedAt: nil)
        }
    }
}
