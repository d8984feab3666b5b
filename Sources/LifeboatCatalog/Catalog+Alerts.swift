import FluentKit
import Foundation

/// An alert as the dispatcher sees it.
public struct AlertNotice: Sendable, Equatable {
    public enum Event: String, Sendable { case firing = "FIRING", resolved = "RESOLVED" }

    public var id: UUID
    public var condition: String
    public var event: Event
    public var message: String
    public var webhook: String
    public var createdAt: Date
    public var attempts: Int
}

extension Catalog {
    /// The open conditions: key and message.
    public func openAlerts() async throws -> [String: String] {
        try await perform("read the open alerts") {
            Dictionary(try await AlertModel.query(on: self.database).all().map { ($0.condition, $0.message) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Opens the conditions newly seen and resolves those gone, in one transaction, with a
    /// notification per webhook for each change.
    /// - Parameters:
    ///   - current: every condition that holds now (key and message).
    /// - Returns: how many were opened and resolved.
    @discardableResult
    public func updateAlerts(current: [String: String], webhooks: [String], at date: Date = Date()) async throws -> (opened: Int, resolved: Int) {
        try await perform("record the alerts") {
            try await self.writeTransaction { db in
                let open = try await AlertModel.query(on: db).all()
                let openKeys = Set(open.map(\.condition))
                var opened = 0
                var resolved = 0
                func notify(_ condition: String, _ event: AlertNotice.Event, _ message: String) async throws {
                    for webhook in webhooks {
                        let d = AlertDeliveryModel()
                        d.condition = condition
                        d.event = event.rawValue
                        d.message = message
                        d.webhook = webhook
                        d.createdAt = date
                        d.attempts = 0
                        d.nextAttemptAt = date
                        try await d.create(on: db)
                    }
                }
                for (key, message) in current.sorted(by: { $0.key < $1.key }) where !openKeys.contains(key) {
                    let m = AlertModel()
                    m.condition = key
                    m.message = message
                    m.openedAt = date
                    try await m.create(on: db)
                    try await notify(key, .firing, message)
                    opened += 1
                }
                for m in open where current[m.condition] == nil {
                    try await m.delete(on: db)
                    try await notify(m.condition, .resolved, "resolved: \(m.message)")
                    resolved += 1
                }
                return (opened, resolved)
            }
        }
    }

    /// Notifications not yet delivered whose next attempt is due, oldest first.
    public func dueAlertNotices(at date: Date = Date()) async throws -> [AlertNotice] {
        try await perform("read the pending alerts") {
            try await AlertDeliveryModel.query(on: self.database).filter(\.$deliveredAt == nil).filter(\.$nextAttemptAt <= date)
                .sort(\.$createdAt, .ascending).all().map {
                    AlertNotice(
                        id: $0.id!, condition: $0.condition, event: AlertNotice.Event(rawValue: $0.event) ?? .firing, message: $0.message, webhook: $0.webhook,
                        createdAt: $0.createdAt, attempts: $0.attempts)
                }
        }
    }

    /// How many notifications wait for delivery.
    public func pendingAlertNoticeCount() async throws -> Int {
        try await perform("count the pending alerts") { try await AlertDeliveryModel.query(on: self.database).filter(\.$deliveredAt == nil).count() }
    }

    /// A notification was delivered, or failed and is tried again at `retryAt`.
    public func recordAlertDelivery(_ id: UUID, error: String?, retryAt: Date, at date: Date = Date()) async throws {
        try await perform("record an alert's delivery") {
            guard let m = try await AlertDeliveryModel.find(id, on: self.database) else { return }
            m.attempts += 1
            if let error {
                m.lastError = error
                m.nextAttemptAt = retryAt
            } else {
                m.deliveredAt = date
                m.lastError = nil
            }
            try await m.save(on: self.database)
        }
    }
}
