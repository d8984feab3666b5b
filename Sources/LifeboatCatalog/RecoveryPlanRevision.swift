import Foundation

/// A stored revision of a disaster-recovery plan: its document exactly as given.
public struct RecoveryPlanRevision: Sendable, Codable, Equatable {
    public var name: String
    /// 1 for the first, one more for each change.
    public var revision: Int
    public var document: String
    public var createdAt: Date
    public var createdBy: String

    init(_ m: RecoveryPlanModel) {
        name = m.name
        revision = m.revision
        document = m.document
        createdAt = m.createdAt
        createdBy = m.createdBy
    }
}
