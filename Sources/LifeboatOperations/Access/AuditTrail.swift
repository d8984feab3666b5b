import Foundation
import LifeboatCatalog

/// The audit trail of the API and the console: appended to by the server's audit middleware,
/// listed and checked by `lifeboat audit …`.
public struct AuditTrail: Sendable {
    public let context: OperationsContext

    public init(context: OperationsContext) {
        self.context = context
    }

    /// Appends an event after the newest one.
    @discardableResult
    public func record(_ event: AuditEvent.New) async throws -> AuditEvent {
        try await context.withCatalog { try await $0.appendAuditEvent(event) }
    }

    /// Events matching the filter, newest first.
    public func list(_ filter: AuditFilter = AuditFilter()) async throws -> [AuditEvent] {
        try await context.withCatalog { try await $0.auditEvents(filter) }
    }

    /// Walks the chain from its first event and stops at the first one that does not hold.
    public func verify() async throws -> AuditVerification {
        AuditVerification(chain: try await context.withCatalog { try await $0.auditChain() })
    }
}
