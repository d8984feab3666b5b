import FluentKit
import Foundation

/// One revision of a disaster-recovery plan: the document as it was given (YAML or JSON),
/// never changed afterwards. A new revision is a new row; every one is kept.
final class RecoveryPlanModel: Model, @unchecked Sendable {
    static let schema = "recovery_plans"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "revision") var revision: Int
    @Field(key: "document") var document: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "created_by") var createdBy: String

    init() {}
}
