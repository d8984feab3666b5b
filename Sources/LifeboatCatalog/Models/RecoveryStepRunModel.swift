import FluentKit
import Foundation

/// One step of an execution: written PENDING with the execution, updated at each attempt.
final class RecoveryStepRunModel: Model, @unchecked Sendable {
    static let schema = "recovery_step_runs"

    @ID(key: .id) var id: UUID?
    @Parent(key: "execution_id") var execution: RecoveryExecutionModel
    /// The step's place in the plan, so rows read back in plan order.
    @Field(key: "position") var position: Int
    @Field(key: "name") var name: String
    @Field(key: "type") var type: String
    @Field(key: "critical") var critical: Bool
    @Field(key: "status") var status: String
    @Field(key: "attempts") var attempts: Int
    @OptionalField(key: "started_at") var startedAt: Date?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    /// The step's log, its newest part kept when it grows past the bound.
    @Field(key: "log") var log: String
    /// RESTORE_BACKUP: the time of the data restored (the snapshot's, or the recovery target).
    @OptionalField(key: "restore_point") var restorePoint: Date?
    @OptionalField(key: "approved_by") var approvedBy: String?
    @OptionalField(key: "approved_at") var approvedAt: Date?
    @OptionalField(key: "approval_comment") var approvalComment: String?

    init() {}
}
