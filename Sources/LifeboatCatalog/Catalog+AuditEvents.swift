import FluentKit
import Foundation

/// Which audit events to list.
public struct AuditFilter: Sendable {
    public var since: Date?
    public var tokenName: String?
    public var outcome: String?
    /// The newest so many.
    public var limit: Int?

    public init(since: Date? = nil, tokenName: String? = nil, outcome: String? = nil, limit: Int? = nil) {
        self.since = since
        self.tokenName = tokenName
        self.outcome = outcome
        self.limit = limit
    }
}

extension Catalog {
    /// Appends an event to the chain, after the newest one.
    ///
    /// The newest event is read and the new one written in one write transaction, which
    /// holds the catalog's write lock from the read on: two appends, from this process or
    /// another, take turns, and the chain never forks. The unique `sequence` refuses a
    /// forked row should one ever be attempted.
    /// - Returns: the event as stored, with its sequence and hashes.
    @discardableResult
    public func appendAuditEvent(_ new: AuditEvent.New) async throws -> AuditEvent {
        try await perform("append to the audit trail") {
            try await self.writeTransaction { db in
                let last = try await AuditEventModel.query(on: db).sort(\.$sequence, .descending).first()
                let event = AuditEvent(new, sequence: (last?.sequence ?? 0) + 1, previousHash: last?.hash ?? AuditEvent.genesisHash)
                try await AuditEventModel(event).create(on: db)
                return event
            }
        }
    }

    /// Events matching the filter, newest first.
    public func auditEvents(_ filter: AuditFilter = AuditFilter()) async throws -> [AuditEvent] {
        try await perform("read the audit trail") {
            var query = AuditEventModel.query(on: self.database)
            if let since = filter.since { query = query.filter(\.$at >= since) }
            if let token = filter.tokenName { query = query.filter(\.$tokenName == token) }
            if let outcome = filter.outcome { query = query.filter(\.$outcome == outcome) }
            query = query.sort(\.$sequence, .descending)
            if let limit = filter.limit { query = query.limit(limit) }
            return try await query.all().map(AuditEvent.init)
        }
    }

    /// Every event in chain order (oldest first), for checking the chain.
    public func auditChain() async throws -> [AuditEvent] {
        try await perform("read the audit trail") {
            try await AuditEventModel.query(on: self.database).sort(\.$sequence, .ascending).all().map(AuditEvent.init)
        }
    }
}

extension AuditEvent {
    init(_ m: AuditEventModel) {
        sequence = m.sequence
        at = m.at
        tokenName = m.tokenName
        role = m.role
        address = m.address
        method = m.method
        route = m.route
        status = m.status
        outcome = m.outcome
        target = m.target
        detail = m.detail
        previousHash = m.previousHash
        hash = m.hash
    }
}

extension AuditEventModel {
    convenience init(_ e: AuditEvent) {
        self.init()
        sequence = e.sequence
        at = e.at
        tokenName = e.tokenName
        role = e.role
        address = e.address
        method = e.method
        route = e.route
        status = e.status
        outcome = e.outcome
        target = e.target
        detail = e.detail
        previousHash = e.previousHash
        hash = e.hash
    }
}
