import Foundation

/// A bearer token as the catalog keeps it, without its hash: what `token list` shows.
public struct AccessTokenRecord: Sendable, Codable, Equatable {
    public var name: String
    /// `auditor`, `operator` or `admin` (Operations' Role).
    public var role: String
    public var createdAt: Date
    /// Who made it (the OS user of `token create`).
    public var createdBy: String
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    init(_ m: AccessTokenModel) {
        name = m.name
        role = m.role
        createdAt = m.createdAt
        createdBy = m.createdBy
        expiresAt = m.expiresAt
        revokedAt = m.revokedAt
        lastUsedAt = m.lastUsedAt
    }
}
