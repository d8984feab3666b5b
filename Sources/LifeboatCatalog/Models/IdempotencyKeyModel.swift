import FluentKit
import Foundation

/// An API request made with an `Idempotency-Key`: reserved while the first request runs,
/// then holding its answer, so that a retry gets that answer instead of a second backup or
/// recovery. One row per caller and key.
final class IdempotencyKeyModel: Model, @unchecked Sendable {
    static let schema = "api_idempotency_keys"

    @ID(key: .id) var id: UUID?
    /// The token's name: one caller's key never answers another's request.
    @Field(key: "caller") var caller: String
    @Field(key: "key") var key: String
    /// The operation and a SHA-256 of what was asked: the same key with another request is refused.
    @Field(key: "operation") var operation: String
    @Field(key: "request_hash") var requestHash: String
    @Field(key: "created_at") var createdAt: Date
    /// nil while the first request runs.
    @OptionalField(key: "status") var status: Int?
    @OptionalField(key: "location") var location: String?
    @OptionalField(key: "body") var body: String?

    init() {}
}
