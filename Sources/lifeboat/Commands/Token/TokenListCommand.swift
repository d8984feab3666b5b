import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

struct TokenListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the tokens: name, role, created, expiry, revocation, last use (never the token).")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let access = AccessTokens(context: try repository.context(for: "token list"))
        let tokens = try await access.list()
        if output.json { return try JSONOutput.print(tokens.map { TokenListJSON($0, now: access.now()) }) }
        if tokens.isEmpty { return print("no tokens: create one with 'lifeboat token create --name NAME --role ROLE'") }
        let now = access.now()
        for t in tokens {
            let state = TokenListJSON.state(t, now: now)
            let expiry = t.expiresAt.map { ", expires \(ISO8601.format($0))" } ?? ""
            let revoked = t.revokedAt.map { ", revoked \(ISO8601.format($0))" } ?? ""
            let used = t.lastUsedAt.map { "last used \(ISO8601.format($0))" } ?? "never used"
            print("\(t.name) \(t.role) \(state): created \(ISO8601.format(t.createdAt)) by \(t.createdBy)\(expiry)\(revoked); \(used)")
        }
    }
}

struct TokenListJSON: Encodable {
    let name: String
    let role: String
    /// active, expired or revoked.
    let state: String
    let createdAt: Date
    let createdBy: String
    let expiresAt: Date?
    let revokedAt: Date?
    let lastUsedAt: Date?

    init(_ t: AccessTokenRecord, now: Date) {
        name = t.name
        role = t.role
        state = Self.state(t, now: now)
        createdAt = t.createdAt
        createdBy = t.createdBy
        expiresAt = t.expiresAt
        revokedAt = t.revokedAt
        lastUsedAt = t.lastUsedAt
    }

    static func state(_ t: AccessTokenRecord, now: Date) -> String {
        if t.revokedAt != nil { return "revoked" }
        if let expiry = t.expiresAt, expiry <= now { return "expired" }
        return "active"
    }

    enum CodingKeys: String, CodingKey { case name, role, state, createdAt, createdBy, expiresAt, revokedAt, lastUsedAt }

    /// Absent dates are null, so that every object has the same keys.
    func encode(to encoder: any Encoder) throws {
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
