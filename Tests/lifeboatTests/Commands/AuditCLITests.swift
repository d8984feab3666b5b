import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

/// `lifeboat audit list` and `audit verify` on a trail written by an independent
/// implementation of the chain (Python, from the format docs/cli.md gives), then tampered
/// with through SQLite: intact is 0, broken is 13 with the first bad event.
@Suite("audit")
struct AuditCLITests {
    let scratch = ScratchDirectory("audit-cli")
    let cli: LifeboatCLI
    let config: String
    let catalog: String

    /// Writes events (token, role, status, outcome, target, detail) one hour apart from
    /// 2027-01-15T08:00:00.250Z, chained as format v1 says; prints the head hash.
    static let writer = """
        import hashlib, sqlite3, sys, uuid, json
        c = sqlite3.connect(sys.argv[1])
        prev = '0' * 64
        start_ms = 1_800_000_000_250
        for i, (token, role, status, outcome, target, detail) in enumerate(json.loads(sys.argv[2])):
            seq, ms = i + 1, start_ms + i * 3_600_000
            fields = ['v1', str(seq), str(ms), token, role, '127.0.0.1', 'POST', '/api/backup/perform', str(status), outcome, target, detail]
            body = '|'.join('-' if f is None else '%d:%s' % (len(f.encode()), f) for f in fields)
            h = hashlib.sha256((prev + '\\n' + body).encode()).hexdigest()
            c.execute('INSERT INTO audit_events (id, sequence, at, token_name, role, address, method, route, status, outcome, target, detail, previous_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
                      (str(uuid.uuid4()).upper(), seq, ms / 1000, token, role, '127.0.0.1', 'POST', '/api/backup/perform', status, outcome, target, detail, prev, h))
            prev = h
        c.commit()
        print(prev)
        """

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

    func json(_ arguments: [String], status: Int32 = 0) throws -> Any {
        let out = try run(arguments + ["--json"])
        #expect(out.status == status, "\(arguments): \(out.stderr)")
        return try LifeboatCLI.json(out)
    }

    /// Four events by the Python writer; returns the head hash.
    func written() throws -> String {
        // The catalog and its tables are made by any verb that opens it.
        #expect(try run(["audit", "verify"]).status == 0)
        let events = """
            [["ops", "operator", 202, "ok", "source app", null], [null, null, 401, "unauthorized", null, "the bearer token is malformed"],
             ["reader", "auditor", 403, "forbidden", "source app", "token 'reader' has role auditor; this needs operator or higher"],
             ["ops", "operator", 409, "rejected", "source app", "a backup of app runs: ünïcode | pipes 3:x"]]
            """
        let out = try Shell.run("/usr/bin/python3", ["-c", Self.writer, catalog, events])
        #expect(out.status == 0, "\(out.stderr)")
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func sqlite(_ statement: String) throws {
        let out = try Shell.run("/usr/bin/python3", ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", catalog, statement])
        #expect(out.status == 0, "\(out.stderr)")
    }

    @Test("an empty trail is intact; a chain written by another implementation of the format verifies, with its head")
    func intact() throws {
        let empty = try run(["audit", "list"])
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.stdout == "no audit events match\n")
        let head = try written()
        let text = try run(["audit", "verify"])
        #expect(text.status == 0)
        #expect(text.stdout == "audit trail intact: 4 events; head 4 \(head)\n")
        let result = try #require(try json(["audit", "verify"]) as? [String: Any])
        #expect(result["intact"] as? Bool == true)
        #expect(result["eventsChecked"] as? Int == 4)
        #expect(result["headHash"] as? String == head)
        #expect(result["firstBreak"] is NSNull)
    }

    @Test("list shows events newest first and filters by token, outcome, time and count")
    func list() throws {
        _ = try written()
        let all = try #require(try json(["audit", "list"]) as? [[String: Any]])
        #expect(all.map { $0["sequence"] as? Int } == [4, 3, 2, 1])
        #expect(all[3]["at"] as? String == "2027-01-15T08:00:00.250Z")
        #expect(all[2]["tokenName"] is NSNull)
        #expect(all[0]["detail"] as? String == "a backup of app runs: ünïcode | pipes 3:x")
        func sequences(_ arguments: [String]) throws -> [Int?] {
            try #require(try json(["audit", "list"] + arguments) as? [[String: Any]]).map { $0["sequence"] as? Int }
        }
        #expect(try sequences(["--token", "ops"]) == [4, 1])
        #expect(try sequences(["--outcome", "forbidden"]) == [3])
        #expect(try sequences(["--since", "2027-01-15T10:00:00Z"]) == [4, 3])
        #expect(try sequences(["--limit", "1"]) == [4])
        let text = try run(["audit", "list", "--outcome", "unauthorized"])
        #expect(text.stdout == "2 2027-01-15T09:00:00.250Z anonymous from 127.0.0.1 POST /api/backup/perform 401 unauthorized: the bearer token is malformed\n")
    }

    @Test("a changed event exits 13 naming it; a deleted one names the event after it", arguments: [
        ("UPDATE audit_events SET outcome = 'ok', status = 202 WHERE sequence = 3", 3, "changed"),
        ("DELETE FROM audit_events WHERE sequence = 2", 3, "broken-link"),
        ("UPDATE audit_events SET detail = 'edited' WHERE sequence = 4", 4, "changed"),
    ])
    func broken(statement: String, sequence: Int, reason: String) throws {
        _ = try written()
        try sqlite(statement)
        let text = try run(["audit", "verify"])
        #expect(text.status == 13)
        #expect(text.stdout.hasPrefix("audit trail BROKEN at event \(sequence) "), "\(text.stdout)")
        let result = try #require(try json(["audit", "verify"], status: 13) as? [String: Any])
        #expect(result["intact"] as? Bool == false)
        let first = try #require(result["firstBreak"] as? [String: Any])
        #expect(first["sequence"] as? Int == sequence)
        #expect(first["reason"] as? String == reason)
        #expect((first["message"] as? String)?.hasPrefix("event \(sequence) ") == true)
    }

    @Test("bad filters are usage errors (64) that say what is accepted", arguments: [
        (["--outcome", "great"], "--outcome must be one of ok, unauthorized, forbidden, rate-limited, rejected, failed, not 'great'"),
        (["--since", "yesterday"], "--since 'yesterday' is neither an ISO 8601 time nor a duration like 36h or 7d"),
        (["--limit", "0"], "--limit must be at least 1, not 0"),
    ])
    func usage(arguments: [String], message: String) throws {
        let out = try run(["audit", "list"] + arguments)
        #expect(out.status == 64)
        #expect(out.stderr.contains(message), "\(out.stderr)")
    }
}
