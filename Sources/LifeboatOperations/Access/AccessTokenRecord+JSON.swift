import Foundation
import LifeboatCatalog

// The JSON of `token list`, `token revoke` and `token create`, and of the API's token routes.

public struct TokenListJSON: Encodable {
    public let name: String
    public let role: String
    /// active, expired or revoked.
    public let state: String
    public let createdAt: Date
    public let createdBy: String
    public let expiresAt: Date?
    public let revokedAt: Date?
    public let lastUsedAt: Date?

    public init(_ t: AccessTokenRecord, now: Date) {
        name = t.name
        role = t.role
        state = Self.state(t, now: now)
        createdAt = t.createdAt
        createdBy = t.createdBy
        expiresAt = t.expiresAt
        revokedAt = t.revokedAt
        lastUsedAt = t.lastUsedAt
    }

    public static func state(_ t: AccessTokenRecord, now: Date) -> String {
        if t.revokedAt != nil { return "revoked" }
        if let expiry = t.expiresAt, expiry <= now { return "expired" }
        return "active"
    }

    enum CodingKeys: String, CodingKey { case name, role, state, createdAt, createdBy, expiresAt, revokedAt, lastUsedAt }

    /// Absent dates are null, so that every object has the same keys.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(role, forKey: .role)
        try c.encode(state, forKey: .state)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(createdBy, forKey: .createdBy)
        try c.encode(expiresAt, forKey: .expiresAt)
        try c.encode(revokedAt, forKey: .revokedAt)
        try c.encode(lastUsedAt, forKey: .lastUsedAt)
    }
}

public struct TokenCreateJSON: Encodable {
    public let token: String
    public let record: AccessTokenRecord

    public init(token: String, record: AccessTokenRecord) {
        self.token = token
        self.record = record
    }

    enum CodingKeys: String, CodingKey { case token, name, role, createdAt, createdBy, expiresAt, notice }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(token, forKey: .token)
        try c.encode(record.name, forKey: .name)
        try c.encode(record.role, forKey: .role)
        try c.encode(record.createdAt, forKey: .createdAt)
        try c.encode(record.createdBy, forKey: .createdBy)
        try c.encode(record.expiresAt, forKey: .expiresAt)
        try c.encode("the token cannot be shown again: the catalog keeps only its hash", forKey: .notice)
    }
}
