import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

/// `lifeboat token …` as an administrator runs it: a token printed once (text and JSON),
/// listed without its text or hash, expired, revoked; bad roles, names and lifetimes refused
/// with a message and status 64, a taken name or an unknown one with status 1.
@Suite("token")
struct TokenCLITests {
    let scratch = ScratchDirectory("token-cli")
    let cli: LifeboatCLI
    let config: String
    let catalog: String

    init() throws {
        cli = try LifeboatCLI(scratch: scratch)
        config = scratch.path + "/lifeboat.yaml"
        catalog = scratch.path + "/catalog.sqlite"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(cli.repository) }
            sources:
              - { name: app, kind: files, paths: [\(scratch.path)/app] }
            catalog: { sqlite: \(catalog) }
            """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    func run(_ arguments: [String]) throws -> Shell.Output {
        try cli.run(arguments, environment: cli.environment(config: config))
    }

    func list() throws -> [[String: Any]] {
        let out = try run(["token", "list", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        return try #require(try LifeboatCLI.json(out) as? [[String: Any]], "\(out.stdout)")
    }

    func sqlite(_ statement: String) throws {
        let out = try Shell.run("/usr/bin/python3", ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", catalog, statement])
        #expect(out.status == 0, "\(out.stderr)")
    }

    @Test("create prints the token once on stdout and says on stderr that it cannot be shown again; list shows the rest, never the token")
    func createAndList() throws {
        let out = try run(["token", "create", "--name", "ci", "--role", "operator", "--expires", "90d"])
        #expect(out.status == 0, "\(out.stderr)")
        let token = out.stdout.trimmingCharacters(in: .newlines)
        #expect(token.hasPrefix("lbt_") && token.count == 47, "\(out.stdout)")
        #expect(out.stderr.contains("token 'ci' (operator) created; it expires "))
        #expect(out.stderr.contains("It cannot be shown again"))

        let json = try run(["token", "create", "--name", "auditors", "--role", "auditor", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let made = try #require(try LifeboatCLI.json(json) as? [String: Any])
        #expect((made["token"] as? String)?.hasPrefix("lbt_") == true)
        #expect(made["name"] as? String == "auditors")
        #expect(made["role"] as? String == "auditor")
        #expect(made["expiresAt"] is NSNull)
        #expect((made["notice"] as? String)?.contains("cannot be shown again") == true)

        let tokens = try list()
        #expect(tokens.map { $0["name"] as? String } == ["auditors", "ci"])
        #expect(tokens.map { $0["state"] as? String } == ["active", "active"])
        #expect(tokens[1]["role"] as? String == "operator")
        let created = try #require(ISO8601.parse(tokens[1]["createdAt"] as? String ?? ""))
        let expires = try #require(ISO8601.parse(tokens[1]["expiresAt"] as? String ?? ""))
        #expect(abs(expires.timeIntervalSince(created) - 90 * 86_400) < 1)
        let text = try run(["token", "list"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("ci operator active: created "))
        for shown in [text.stdout, try run(["token", "list", "--json"]).stdout] {
            #expect(!shown.contains(token))
            #expect(!shown.contains(Digest256.sha256(Data(token.utf8)).hex))
            #expect(!shown.contains("lbt_"))
        }
    }

    @Test("an expired token is listed as expired; a revoked one as revoked, and revoking it again succeeds")
    func expiredAndRevoked() throws {
        #expect(try run(["token", "create", "--name", "old", "--role", "admin", "--expires", "1h"]).status == 0)
        #expect(try run(["token", "create", "--name", "gone", "--role", "operator"]).status == 0)
        // An hour is not waited for: the catalog's row is moved into the past.
        try sqlite("UPDATE access_tokens SET expires_at = 1000000000 WHERE name = 'old'")
        let revoked = try run(["token", "revoke", "gone"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout.hasPrefix("token 'gone' revoked at "))
        let again = try run(["token", "revoke", "gone", "--json"])
        #expect(again.status == 0)
        #expect((try LifeboatCLI.json(again) as? [String: Any])?["state"] as? String == "revoked")
        let tokens = try list()
        #expect(tokens.map { $0["state"] as? String } == ["revoked", "expired"])
        #expect(tokens[0]["revokedAt"] is String)
        #expect(try run(["token", "list"]).stdout.contains("old admin expired: "))
    }

    @Test("a taken name and an unknown token exit 1 with a sentence; --json errors are JSON")
    func failures() throws {
        #expect(try run(["token", "create", "--name", "ci", "--role", "admin"]).status == 0)
        let taken = try run(["token", "create", "--name", "ci", "--role", "admin"])
        #expect(taken.status == 1)
        #expect(taken.stdout.isEmpty)
        #expect(taken.stderr.contains("a token named 'ci' exists already"))
        let unknown = try run(["token", "revoke", "nope", "--json"])
        #expect(unknown.status == 1)
        let error = try #require(try JSONSerialization.jsonObject(with: Data(unknown.stderr.utf8)) as? [String: [String: Any]])
        #expect(error["error"]?["message"] as? String == "no token named 'nope' in the catalog: it has ci")
        let badName = try run(["token", "create", "--name", "has space", "--role", "admin"])
        #expect(badName.status == 1)
        #expect(badName.stderr.contains("'has space' cannot name a token"))
    }

    @Test("a bad role or lifetime is a usage error (64) that says what is accepted", arguments: [
        (["--role", "root"], "--role must be admin, operator or auditor, not 'root'"),
        (["--role", "admin", "--expires", "soon"], "--expires 'soon' is not a lifetime"),
        (["--role", "admin", "--expires", "0d"], "--expires '0d' is not a lifetime"),
        (["--role", "admin", "--expires=-5d"], "--expires '-5d' is not a lifetime"),
    ])
    func usage(arguments: [String], message: String) throws {
        let out = try run(["token", "create", "--name", "x"] + arguments)
        #expect(out.status == 64)
        #expect(out.stderr.contains(message), "\(out.stderr)")
        #expect(out.stdout.isEmpty)
        #expect(try list().isEmpty)
    }

    @Test("token verbs need lifeboat.yaml, and say so")
    func needsConfiguration() throws {
        var environment = cli.environment
        environment.removeValue(forKey: "LIFEBOAT_CONFIG")
        let out = try Shell.run(LifeboatCLI.executable, ["token", "list"], environment: environment)
        #expect(out.status == 1)
        #expect(out.stderr.contains("token list needs lifeboat.yaml"))
    }
}
