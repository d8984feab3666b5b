import AsyncHTTPClient
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

/// Bearer tokens on a real SQLite catalog: made once, kept as a hash, checked, expired and
/// revoked.
@Suite("AccessTokens")
struct AccessTokensTests {
    let scratch = ScratchDirectory("access-tokens")
    let context: OperationsContext
    let catalogPath: String
    /// The wall clock the tokens see, moved by the tests.
    let clock = ManualWallClock()

    init() throws {
        catalogPath = scratch.path + "/catalog.sqlite"
        let config = try LifeboatConfiguration.decode(
            """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app, kind: files, paths: [\(scratch.path)/app] }
            catalog: { sqlite: \(catalogPath) }
            """, file: scratch.path + "/lifeboat.yaml")
        context = OperationsContext(
            configuration: config, secrets: SecretLookup(environment: [:]), backends: LocationBackends(environment: [:], sharing: { HTTPClient.shared }),
            requester: Requester(host: "testhost", username: "tester"), programVersion: "test")
    }

    var tokens: AccessTokens {
        var t = AccessTokens(context: context)
        let clock = self.clock
        t.now = { clock.now }
        return t
    }

    func advance(_ seconds: TimeInterval) {
        clock.advance(by: seconds)
    }

    /// A column of every row of the tokens' table, read with sqlite3 as an intruder would.
    func column(_ name: String) throws -> [String] {
        let out = try Shell.run(
            "/usr/bin/python3",
            ["-c", "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute('SELECT \(name) FROM access_tokens ORDER BY name')]", catalogPath])
        #expect(out.status == 0, "\(out.stderr)")
        return out.stdout.split(separator: "\n").map(String.init)
    }

    @Test("a new token is lbt_ and 43 base64url characters, is accepted with its role, and the catalog keeps only its SHA-256")
    func createAndVerify() async throws {
        let made = try await tokens.create(name: "ci", role: .operator, lifetime: nil)
        #expect(made.token.hasPrefix("lbt_"))
        #expect(made.token.count == 47)
        #expect(AccessTokens.isWellFormed(made.token))
        #expect(made.record.createdBy == "tester")
        #expect(made.record.expiresAt == nil)
        #expect(try await tokens.verify(made.token) == .success(Caller(tokenName: "ci", role: .operator)))
        #expect(try column("token_hash") == [Digest256.sha256(Data(made.token.utf8)).hex])
        // The file and its WAL, where committed rows wait while a connection is open.
        let dump = try [catalogPath, catalogPath + "-wal"].filter { FileManager.default.fileExists(atPath: $0) }
            .map { try String(contentsOfFile: $0, encoding: .isoLatin1) }.joined()
        #expect(!dump.contains(String(made.token.dropFirst(4))), "the token's text is in the catalog's files")
        let other = try await tokens.create(name: "ops", role: .admin, lifetime: nil)
        #expect(other.token != made.token)
        #expect(try await tokens.verify(other.token) == .success(Caller(tokenName: "ops", role: .admin)))
    }

    @Test("a malformed or unknown token is refused, and says which")
    func refusedTokens() async throws {
        let made = try await tokens.create(name: "ci", role: .auditor, lifetime: nil)
        #expect(try await tokens.verify("") == .failure(.malformed))
        #expect(try await tokens.verify("lbt_short") == .failure(.malformed))
        #expect(try await tokens.verify(String(made.token.dropFirst(4))) == .failure(.malformed))
        #expect(try await tokens.verify(made.token + "A") == .failure(.malformed))
        var flipped = Array(made.token)
        flipped[10] = flipped[10] == "A" ? "B" : "A"
        #expect(try await tokens.verify(String(flipped)) == .failure(.unknown))
        #expect(try await tokens.verify(AccessTokens.makeToken()) == .failure(.unknown))
    }

    @Test("a token is accepted until its expiry and refused from then on, with the date")
    func expiry() async throws {
        let made = try await tokens.create(name: "temp", role: .operator, lifetime: .seconds(3600))
        let expiry = try #require(made.record.expiresAt)
        #expect(expiry == clock.now.addingTimeInterval(3600))
        advance(3599)
        #expect(try await tokens.verify(made.token) == .success(Caller(tokenName: "temp", role: .operator)))
        advance(1)
        #expect(try await tokens.verify(made.token) == .failure(.expired(name: "temp", at: expiry)))
        await #expect(throws: AccessError.self) { try await tokens.create(name: "zero", role: .operator, lifetime: .zero) }
    }

    @Test("a revoked token is refused; revoking it again keeps the first date; an unknown name is an error naming those there are")
    func revoke() async throws {
        let made = try await tokens.create(name: "ci", role: .operator, lifetime: nil)
        let revoked = try await tokens.revoke(name: "ci")
        let at = try #require(revoked.revokedAt)
        #expect(try await tokens.verify(made.token) == .failure(.revoked(name: "ci", at: at)))
        advance(60)
        #expect(try await tokens.revoke(name: "ci").revokedAt == at)
        // The trail has the creation and the first revocation, by the OS user on this host.
        let events = try await AuditTrail(context: context).list().reversed().map { $0 }
        #expect(events.map(\.route) == ["token create", "token revoke"])
        #expect(events.map(\.target) == ["token ci (operator)", "token ci"])
        #expect(events.allSatisfy { $0.method == "CLI" && $0.address == "testhost" && $0.detail == "by OS user tester" && $0.tokenName == nil })
        #expect(try await AuditTrail(context: context).verify().isIntact)
        await #expect {
            try await tokens.revoke(name: "nope")
        } throws: { error in
            (error as? AccessError)?.description == "no token named 'nope' in the catalog: it has ci"
        }
    }

    @Test("names are unique, even once revoked, and limited to letters, digits, '.', '_', '-'")
    func names() async throws {
        _ = try await tokens.create(name: "ci.deploy_1-a", role: .operator, lifetime: nil)
        _ = try await tokens.revoke(name: "ci.deploy_1-a")
        await #expect { try await tokens.create(name: "ci.deploy_1-a", role: .admin, lifetime: nil) } throws: { error in
            if case AccessError.duplicateName("ci.deploy_1-a") = error { return true }
            return false
        }
        for bad in ["", "has space", "slash/name", String(repeating: "x", count: 65), "ümlaut"] {
            await #expect { try await tokens.create(name: bad, role: .admin, lifetime: nil) } throws: { error in
                if case AccessError.invalidName(bad) = error { return true }
                return false
            }
        }
        #expect(try await tokens.list().map(\.name) == ["ci.deploy_1-a"])
    }

    @Test("use is recorded, to the minute")
    func lastUse() async throws {
        let made = try await tokens.create(name: "ci", role: .auditor, lifetime: nil)
        #expect(try await tokens.list().first?.lastUsedAt == nil)
        let first = clock.now
        _ = try await tokens.verify(made.token)
        #expect(try await tokens.list().first?.lastUsedAt == first)
        advance(30)
        _ = try await tokens.verify(made.token)
        #expect(try await tokens.list().first?.lastUsedAt == first)
        advance(30)
        _ = try await tokens.verify(made.token)
        #expect(try await tokens.list().first?.lastUsedAt == first.addingTimeInterval(60))
    }

    @Test("byte strings compare equal only when every byte is", arguments: [
        ([UInt8](), [UInt8](), true), ([1, 2, 3], [1, 2, 3], true), ([1, 2, 3], [1, 2, 4], false), ([9, 2, 3], [1, 2, 3], false), ([1, 2], [1, 2, 3], false),
    ])
    func constantTimeEqual(a: [UInt8], b: [UInt8], equal: Bool) {
        #expect(AccessTokens.constantTimeEqual(a, b) == equal)
    }
}
