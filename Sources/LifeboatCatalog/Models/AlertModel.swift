import FluentKit
import Foundation

/// A condition that needs a person, open from when it was first seen until it resolves:
/// one row per condition, so that it is alerted once, and once more when it resolves.
final class AlertModel: Model, @unchecked Sendable {
    static let schema = "alerts"

    @ID(key: .id) var id: UUID?
    @Field(key: "condition") var condition: String
    @Field(key: "message") var message: String
    @Field(key: "opened_at") var openedAt: Date

    init() {}
}

/// One notification of an alert to one webhook, kept until delivered: pending deliveries
/// survive a restart and are retried with backoff.
final class AlertDeliveryModel: Model, @unchecked Sendable {
    static let schema = "alert_deliveries"

    @ID(key: .id) var id: UUID?
    @Field(key: "condition") var condition: String
    /// FIRING or RESOLVED.
    @Field(key: "event") var event: String
    @Field(key: "message") var message: String
    @Field(key: "webhook") var webhook: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "attempts") var attempts: Int
    @Field(key: "next_attempt_at") var nextAttemptAt: Date
    @OptionalField(key: "delivered_at") var deliveredAt: Date?
    @OptionalField(key: "last_error") var lastError: String?

    init() {}
}
