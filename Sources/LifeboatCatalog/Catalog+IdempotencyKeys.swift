import FluentKit
import Foundation

/// An API request's idempotency key as stored: its request, and its answer once given.
public struct IdempotencyKeyRecord: Sendable, Equatable {
    public var id: UUID
    public var operation: String
    public var requestHash: String
    public var createdAt: Date
    /// nil while the first request with the key runs.
    public var status: Int?
    public var location: String?
    public var body: String?
}

/// What reserving a key found.
public enum IdempotencyReservation: Sendable, Equatable {
    /// The key is new and now reserved under this id: do the work, then record its answer.
    case reserved(UUID)
    /// The key is known: its answer, or its first request still running.
    case known(IdempotencyKeyRecord)
}

extension Catalog {
    /// How long a key answers retries: a client retries within minutes, not days.
    public static let idempotencyKeyLifetime: TimeInterval = 24 * 3600

    /// Reserves `key` of `caller` for a request, unless it is known. After a reservation the
    /// caller does the work, then ``completeIdempotencyKey(_:status:location:body:)`` or
    /// ``releaseIdempotencyKey(_:)``. Keys older than ``idempotencyKeyLifetime`` are forgotten first.
    public func reserveIdempotencyKey(
        caller: String, key: String, operation: String, requestHash: String, at date: Date = Date()
    ) async throws -> IdempotencyReservation {
        try await perform("reserve the idempotency key") {
            try await IdempotencyKeyModel.query(on: self.database)
                .filter(\.$createdAt < date.addingTimeInterval(-Self.idempotencyKeyLifetime)).delete()
            if let known = try await Self.idempotencyKey(caller: caller, key: key, on: self.database) { return .known(known) }
            let row = IdempotencyKeyModel()
            row.caller = caller
            row.key = key
            row.operation = operation
            row.requestHash = requestHash
            row.createdAt = date
            do {
                try await row.create(on: self.database)
                return .reserved(try row.requireID())
            } catch {
                // Two first requests at once: the unique (caller, key) refuses the second,
                // which then sees the first one's reservation.
                guard let known = try await Self.idempotencyKey(caller: caller, key: key, on: self.database) else { throw error }
                return .known(known)
            }
        }
    }

    /// Records the answer of a reserved key's request.
    public func completeIdempotencyKey(_ id: UUID, status: Int, location: String?, body: String) async throws {
        try await perform("record the idempotency key's answer") {
            guard let row = try await IdempotencyKeyModel.find(id, on: self.database) else { return }
            row.status = status
            row.location = location
            row.body = body
            try await row.update(on: self.database)
        }
    }

    /// Forgets a reserved key whose request failed, so that a retry does the work.
    public func releaseIdempotencyKey(_ id: UUID) async throws {
        try await perform("release the idempotency key") {
            try await IdempotencyKeyModel.query(on: self.database).filter(\.$id == id).delete()
        }
    }

    static func idempotencyKey(caller: String, key: String, on database: any Database) async throws -> IdempotencyKeyRecord? {
        try await IdempotencyKeyModel.query(on: database).filter(\.$caller == caller).filter(\.$key == key).first().map {
            IdempotencyKeyRecord(
                id: try $0.requireID(), operation: $0.operation, requestHash: $0.requestHash, createdAt: $0.createdAt, status: $0.status, location: $0.location,
                body: $0.body)
        }
    }
}
