import FluentKit
import Foundation

extension Catalog {
    /// Stores a new token's name, role and hash.
    /// - Returns: the stored record, or nil when a token of that name exists (revoked ones
    ///   too: a name stays with the token it was first given to, so the audit trail's names
    ///   stay unambiguous).
    public func addAccessToken(
        name: String, role: String, hash: String, by user: String, at date: Date, expiresAt: Date?
    ) async throws -> AccessTokenRecord? {
        try await perform("store the token") {
            if try await AccessTokenModel.query(on: self.database).filter(\.$name == name).first() != nil { return nil }
            let m = AccessTokenModel()
            m.name = name
            m.role = role
            m.tokenHash = hash
            m.createdAt = date
            m.createdBy = user
            m.expiresAt = expiresAt
            // Two `token create` of one name at once: the unique name refuses the second.
            try await m.create(on: self.database)
            return AccessTokenRecord(m)
        }
    }

    /// Every token, by name, without hashes.
    public func accessTokens() async throws -> [AccessTokenRecord] {
        try await perform("read the tokens") {
            try await AccessTokenModel.query(on: self.database).sort(\.$name, .ascending).all().map(AccessTokenRecord.init)
        }
    }

    /// Every token with its hash (hex SHA-256), for checking a presented token against all
    /// of them.
    public func accessTokenHashes() async throws -> [(record: AccessTokenRecord, hash: String)] {
        try await perform("read the tokens") {
            try await AccessTokenModel.query(on: self.database).all().map { (AccessTokenRecord($0), $0.tokenHash) }
        }
    }

    /// Marks a token revoked at `date` (kept, so that the audit trail's name still means
    /// it). A token already revoked keeps its first date.
    /// - Returns: the token as it is now; nil when none has that name.
    public func revokeAccessToken(name: String, at date: Date) async throws -> AccessTokenRecord? {
        try await perform("revoke the token") {
            guard let m = try await AccessTokenModel.query(on: self.database).filter(\.$name == name).first() else { return nil }
            if m.revokedAt == nil {
                m.revokedAt = date
                try await m.save(on: self.database)
            }
            return AccessTokenRecord(m)
        }
    }

    /// Records that a token was used at `date`.
    public func markAccessTokenUsed(name: String, at date: Date) async throws {
        try await perform("record the token's use") {
            try await AccessTokenModel.query(on: self.database).filter(\.$name == name).set(\.$lastUsedAt, to: date).update()
        }
    }
}
