import FluentKit
import Foundation

/// One backup run: what was asked, how far it got, and what each check found.
/// Written when the run starts (RUNNING) and updated after every stage.
final class BackupLogModel: Model, @unchecked Sendable {
    static let schema = "backup_logs"

    @ID(key: .id) var id: UUID?
    @Field(key: "type") var type: String
    @OptionalField(key: "schedule_type") var scheduleType: String?
    @Field(key: "source") var source: String
    @Field(key: "source_kind") var sourceKind: String
    @Field(key: "status") var status: String
    /// The last stage that finished (PRE_CHECK, BACKUP, REPLICATION, RETENTION, FINISHED).
    @OptionalField(key: "stage") var stage: String?
    @OptionalField(key: "snapshot_id") var snapshotID: String?
    @Field(key: "started_at") var startedAt: Date
    @OptionalField(key: "finished_at") var finishedAt: Date?
    @OptionalField(key: "bytes_read") var bytesRead: Int64?
    @OptionalField(key: "bytes_added") var bytesAdded: Int64?
    @OptionalField(key: "files") var files: Int?
    @OptionalField(key: "data_key_id") var dataKeyID: String?
    /// The root tree's content id: the digest of everything the snapshot holds.
    @OptionalField(key: "checksum") var checksum: String?
    @Field(key: "requested_by") var requestedBy: String
    @Field(key: "host") var host: String
    @Field(key: "pid") var pid: Int
    /// The owner's boot id and start time (v3), so that a reused pid is not taken for it.
    @OptionalField(key: "owner_boot_id") var ownerBootID: String?
    @OptionalField(key: "owner_start_ticks") var ownerStartTicks: Int64?
    /// Until when a RUNNING row is held (v3); the owner renews it while the run goes on.
    @OptionalField(key: "lease_expires_at") var leaseExpiresAt: Date?
    @OptionalField(key: "pre_check_passed") var preCheckPassed: Bool?
    @OptionalField(key: "pre_check_details") var preCheckDetails: String?
    @OptionalField(key: "post_check_passed") var postCheckPassed: Bool?
    @OptionalField(key: "post_check_details") var postCheckDetails: String?
    @OptionalField(key: "error") var error: String?
    @Field(key: "restore_tested") var restoreTested: Bool
    @OptionalField(key: "restore_tested_at") var restoreTestedAt: Date?
    @OptionalField(key: "restore_test_result") var restoreTestResult: String?
    @OptionalField(key: "restore_test_seconds") var restoreTestSeconds: Double?
    @OptionalField(key: "restore_test_details") var restoreTestDetails: String?
    @OptionalField(key: "restore_test_location") var restoreTestLocation: String?
    @Children(for: \.$backup) var copies: [BackupCopyModel]

    init() {}
}
