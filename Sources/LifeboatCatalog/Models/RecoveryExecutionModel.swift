import FluentKit
import Foundation

/// One run of a plan revision (EXECUTE or TEST), saved at every transition, held by a
/// lease while an executor drives it (as a RUNNING BackupLog row is).
final class RecoveryExecutionModel: Model, @unchecked Sendable {
    static let schema = "recovery_executions"

    @ID(key: .id) var id: UUID?
    @Field(key: "plan") var plan: String
    @Field(key: "plan_revision") var planRevision: Int
    @Field(key: "mode") var mode: String
    @Field(key: "status") var status: String
    @Field(key: "requested_by") var requestedBy: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "started_at") var startedAt: Date?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    @Field(key: "incident_time") var incidentTime: Date
    /// The executor holding it: host, pid, boot id and start time, and until when.
    @OptionalField(key: "host") var host: String?
    @OptionalField(key: "pid") var pid: Int?
    @OptionalField(key: "owner_boot_id") var ownerBootID: String?
    @OptionalField(key: "owner_start_ticks") var ownerStartTicks: Int64?
    @OptionalField(key: "lease_expires_at") var leaseExpiresAt: Date?
    @Field(key: "cancel_requested") var cancelRequested: Bool
    /// TEST: the folder the sandbox lives in (removed at the end, whatever happens).
    @OptionalField(key: "sandbox") var sandbox: String?
    @OptionalField(key: "rto_target_seconds") var rtoTargetSeconds: Double?
    @OptionalField(key: "rto_achieved_seconds") var rtoAchievedSeconds: Double?
    @OptionalField(key: "rpo_target_seconds") var rpoTargetSeconds: Double?
    @OptionalField(key: "rpo_achieved_seconds") var rpoAchievedSeconds: Double?
    @OptionalField(key: "restore_point") var restorePoint: Date?
    @OptionalField(key: "error") var error: String?
    @Children(for: \.$execution) var steps: [RecoveryStepRunModel]

    init() {}
}
