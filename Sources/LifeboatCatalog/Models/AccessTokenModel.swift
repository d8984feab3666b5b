import FluentKit
import Foundation

/// A bearer token of the API and the console: its name and role, and only a hash of the
/// token itself (the token is shown once, when it is made, and never stored).
final class AccessTokenModel: Model, @unchecked Sendable {
    static let schema = "access_tokens"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "role") var role: String
    /// Hex SHA-256 of the token's text (Operations' AccessTokens says why a plain hash is right).
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "created_by") var createdBy: String
    @OptionalField(key: "expires_at") var expiresAt: Date?
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    @OptionalField(key: "last_used_at") var lastUsedAt: Date?

    init() {}
}
