import Foundation
import LifeboatCatalog
import LifeboatCore

/// The bearer tokens of the API and the console: made, listed, revoked (`lifeboat token …`)
/// and checked on every request (the server's bearer middleware).
///
/// A token is `lbt_` and 32 random bytes in base64url: the prefix makes a leaked token easy
/// to recognise (secret scanners, logs). The catalog keeps only its SHA-256. A slow,
/// salted hash (scrypt, bcrypt) protects low-entropy passwords against guessing from a
/// stolen table; a token has 256 bits of entropy, which no guessing reaches, so a plain
/// SHA-256 is as strong here and keeps the check on every request cheap.
public struct AccessTokens: Sendable {
    public let context: OperationsContext
    /// Wall-clock time, for creation, expiry and last use (a test sets it).
    public var now: @Sendable () -> Date = { Date() }

    public static let prefix = "lbt_"
    /// The longest lifetime a token may have: 100 years (a date the ISO 8601 of every
    /// client reads; a token meant to live longer should not expire at all).
    public static let maxLifetime: Duration = .seconds(100 * 365 * 86_400)
    /// base64url of 32 bytes, without padding.
    static let encodedSecretLength = 43

    public init(context: OperationsContext) {
        self.context = context
    }

    /// A newly made token: the only time its text exists outside the caller's hands.
    public struct Created: Sendable {
        public var record: AccessTokenRecord
        public var token: String
    }

    /// Makes a token and stores its hash.
    /// - Parameters:
    ///   - lifetime: how long it is valid from now; nil for no expiry.
    ///   - requester: who asked through the API ("alice (api)"), whose call the server's
    ///     audit middleware records; nil for the OS user on this host, recorded here.
    /// - Throws: ``AccessError/invalidName(_:)``, ``AccessError/duplicateName(_:)``, or the catalog's errors.
    public func create(name: String, role: Role, lifetime: Duration?, requester: String? = nil) async throws -> Created {
        try Self.checkName(name)
        if let lifetime, lifetime <= .zero || lifetime > Self.maxLifetime { throw AccessError.invalidLifetime("\(lifetime)") }
        let token = Self.makeToken()
        let date = now()
        let expiresAt = lifetime.map { date.addingTimeInterval($0.seconds) }
        let user = requester ?? context.requester.username
        let event = requester == nil ? localEvent("token create", target: "token \(name) (\(role))", at: date) : nil
        let stored = try await context.withCatalog { catalog in
            let stored = try await catalog.addAccessToken(name: name, role: role.rawValue, hash: Self.hash(of: token).hex, by: user, at: date, expiresAt: expiresAt)
            if stored != nil, let event { try await catalog.appendAuditEvent(event) }
            return stored
        }
        guard let stored else { throw AccessError.duplicateName(name) }
        return Created(record: stored, token: token)
    }

    /// Every token, by name (never a token's text or hash).
    public func list() async throws -> [AccessTokenRecord] {
        try await context.withCatalog { try await $0.accessTokens() }
    }

    /// Revokes a token: from now on it is refused. Revoking one already revoked changes nothing.
    /// - Returns: the token, with the date it was (first) revoked.
    /// - Throws: ``AccessError/unknownToken(_:known:)``.
    /// - Parameters:
    ///   - requester: as for ``create(name:role:lifetime:requester:)``: nil records the OS user's call here.
    public func revoke(name: String, requester: String? = nil) async throws -> AccessTokenRecord {
        let date = now()
        let event = requester == nil ? localEvent("token revoke", target: "token \(name)", at: date) : nil
        return try await context.withCatalog { catalog in
            if let revoked = try await catalog.revokeAccessToken(name: name, at: date) {
                if revoked.revokedAt == date, let event { try await catalog.appendAuditEvent(event) }
                return revoked
            }
            throw AccessError.unknownToken(name, known: try await catalog.accessTokens().map(\.name))
        }
    }

    /// Checks a presented token against every stored hash.
    /// - Returns: the caller, or why the token is refused (for the audit trail).
    public func verify(_ token: String) async throws -> Result<Caller, TokenRefusal> {
        try await context.withCatalog { try await verify(token, in: $0) }
    }

    /// ``verify(_:)`` on an open catalog.
    public func verify(_ token: String, in catalog: Catalog) async throws -> Result<Caller, TokenRefusal> {
        guard Self.isWellFormed(token) else { return .failure(.malformed) }
        let presented = Self.hash(of: token).bytes
        // Every stored hash is compared in full, and the match is remembered rather than
        // returned at once: the time taken does not depend on which bytes, or which row,
        // matched.
        var match: (record: AccessTokenRecord, hash: String)?
        for stored in try await catalog.accessTokenHashes() {
            guard let digest = Digest256(hex: stored.hash) else { continue }
            if Self.constantTimeEqual(presented, digest.bytes) { match = stored }
        }
        guard let match, let role = Role(rawValue: match.record.role) else { return .failure(.unknown) }
        let date = now()
        if let revoked = match.record.revokedAt { return .failure(.revoked(name: match.record.name, at: revoked)) }
        if let expiry = match.record.expiresAt, expiry <= date { return .failure(.expired(name: match.record.name, at: expiry)) }
        // Last use to the minute is what `token list` needs; it spares a write per request.
        if match.record.lastUsedAt.map({ date.timeIntervalSince($0) >= 60 }) ?? true {
            try await catalog.markAccessTokenUsed(name: match.record.name, at: date)
        }
        return .success(Caller(tokenName: match.record.name, role: role))
    }

    /// Tokens made or revoked on the command line go into the audit trail beside the API's
    /// calls: who may do what changed, and an auditor looks for it there. The caller is the
    /// OS user on this host rather than a token.
    func localEvent(_ verb: String, target: String, at date: Date) -> AuditEvent.New {
        AuditEvent.New(
            at: date, tokenName: nil, role: nil, address: context.requester.host, method: "CLI", route: verb, status: 200, outcome: "ok", target: target,
            detail: "by OS user \(context.requester.username)")
    }

    // MARK: The token's text

    /// A new token's text: `lbt_` and 32 random bytes in base64url.
    public static func makeToken() -> String {
        prefix + base64url(Digest256.random().bytes)
    }

    static func hash(of token: String) -> Digest256 {
        Digest256.sha256(Data(token.utf8))
    }

    static func isWellFormed(_ token: String) -> Bool {
        guard token.hasPrefix(prefix) else { return false }
        let secret = token.utf8.dropFirst(prefix.utf8.count)
        return secret.count == encodedSecretLength
            && secret.allSatisfy { c in
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
            }
    }

    public static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether two byte strings are equal, in a time that depends only on their length.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static func checkName(_ name: String) throws {
        let allowed = name.utf8.allSatisfy { c in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        }
        guard allowed, (1...64).contains(name.utf8.count) else { throw AccessError.invalidName(name) }
    }
}
