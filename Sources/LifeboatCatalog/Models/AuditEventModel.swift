import FluentKit
import Foundation

/// One call of the API or the console that changed something or was refused, chained to
/// the one before by `previous_hash` (see Catalog+AuditEvents). `sequence` is unique, so that two
/// writers can never both append after the same row (a fork of the chain).
final class AuditEventModel: Model, @unchecked Sendable {
    static let schema = "audit_events"

    @ID(key: .id) var id: UUID?
    /// 1 for the first row, one more for each after it.
    @Field(key: "sequence") var sequence: Int64
    @Field(key: "at") var at: Date
    @OptionalField(key: "token_name") var tokenName: String?
    @OptionalField(key: "role") var role: String?
    @Field(key: "address") var address: String
    @Field(key: "method") var method: String
    @Field(key: "route") var route: String
    @Field(key: "status") var status: Int
    @Field(key: "outcome") var outcome: String
    @OptionalField(key: "target") var target: String?
    @OptionalField(key: "detail") var detail: String?
    @Field(key: "previous_hash") var previousHash: String
    @Field(key: "hash") var hash: String

    init() {}
}
