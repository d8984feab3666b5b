import AsyncHTTPClient
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

/// The audit trail's hash chain on a real SQLite catalog, tampered with through SQLite
/// directly as an intruder with the file would: each change is caught at the right event.
@Suite("AuditTrail")
struct AuditTrailTests {
    let scratch = ScratchDirectory("audit-trail")
    let context: OperationsContext
    let catalogPath: String
    let start = Date(timeIntervalSince1970: 1_800_000_000.123)

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

    var trail: AuditTrail { AuditTrail(context: context) }

    /// Five events: two by `ops`, one refused anonymous, one forbidden `reader`, one by `ops`.
    func recordFive() async throws -> [AuditEvent] {
        let rows: [(String?, String?, Int, String, String?)] = [
            ("ops", "operator", 202, "ok", "source app"), ("ops", "operator", 202, "ok", "source db"), (nil, nil, 401, "unauthorized", nil),
            ("reader", "auditor", 403, "forbidden", "plan orders"), ("ops", "operator", 409, "rejected", "source app"),
        ]
        var out: [AuditEvent] = []
        for (i, r) in rows.enumerated() {
            out.append(
                try await trail.record(
                    AuditEvent.New(
                        at: start.addingTimeInterval(Double(i) * 3600), tokenName: r.0, role: r.1, address: "127.0.0.1", method: "POST",
                        route: "/api/backup/perform", status: r.2, outcome: r.3, target: r.4, detail: r.2 == 401 ? "the bearer token is malformed" : nil)))
        }
        return out
    }

    func sqlite(_ statements: String...) throws {
        let out = try Shell.run(
            "/usr/bin/python3",
            ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [c.execute(s) for s in sys.argv[2:]]; c.commit()", catalogPath] + statements)
        #expect(out.status == 0, "\(out.stderr)")
    }

    @Test("events are chained from 64 zeros, one sequence after another, and the intact chain verifies with its head")
    func intact() async throws {
        #expect(try await trail.verify() == AuditVerification(chain: []))
        #expect(try await trail.verify().isIntact)
        let events = try await recordFive()
        #expect(events.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(events[0].previousHash == AuditEvent.genesisHash)
        for i in 1..<5 { #expect(events[i].previousHash == events[i - 1].hash) }
        #expect(Set(events.map(\.hash)).count == 5)
        let result = try await trail.verify()
        #expect(result.isIntact)
        #expect(result.eventsChecked == 5)
        #expect(result.headSequence == 5)
        #expect(result.headHash == events[4].hash)
        // What was stored is what was hashed: the chain reads back as written, to the
        // millisecond (SQLite gives back the nearest microsecond of its double).
        let stored = try await trail.list().reversed().map { $0 }
        #expect(stored.map(\.hash) == events.map(\.hash))
        #expect(stored.map(\.computedHash) == events.map(\.hash))
        #expect(stored.map { ($0.at.timeIntervalSince1970 * 1000).rounded() } == events.map { ($0.at.timeIntervalSince1970 * 1000).rounded() })
        #expect(abs(stored[0].at.timeIntervalSince1970 * 1000 - 1_800_000_000_123) < 0.01)
    }

    @Test("a changed field is caught at its event", arguments: [
        "UPDATE audit_events SET outcome = 'ok' WHERE sequence = 3", "UPDATE audit_events SET token_name = 'ops' WHERE sequence = 3",
        "UPDATE audit_events SET at = at + 1 WHERE sequence = 3", "UPDATE audit_events SET detail = NULL WHERE sequence = 3",
        "UPDATE audit_events SET status = 200 WHERE sequence = 3",
    ])
    func changed(statement: String) async throws {
        _ = try await recordFive()
        try sqlite(statement)
        let result = try await trail.verify()
        #expect(result.firstBreak == .init(sequence: 3, reason: .changed))
        #expect(result.eventsChecked == 3)
        #expect(result.headHash == nil)
    }

    @Test("a deleted event is caught at the one after it")
    func deleted() async throws {
        _ = try await recordFive()
        try sqlite("DELETE FROM audit_events WHERE sequence = 3")
        #expect(try await trail.verify().firstBreak == .init(sequence: 4, reason: .brokenLink))
        try sqlite("DELETE FROM audit_events WHERE sequence = 1")
        #expect(try await trail.verify().firstBreak == .init(sequence: 2, reason: .brokenLink))
    }

    @Test("two events swapped are caught at the first of them")
    func reordered() async throws {
        _ = try await recordFive()
        try sqlite(
            "UPDATE audit_events SET sequence = -2 WHERE sequence = 2", "UPDATE audit_events SET sequence = 2 WHERE sequence = 3",
            "UPDATE audit_events SET sequence = 3 WHERE sequence = -2")
        #expect(try await trail.verify().firstBreak == .init(sequence: 2, reason: .brokenLink))
    }

    @Test("an event changed with its hash recomputed breaks the link of the next; one renumbered is out of sequence")
    func rehashed() async throws {
        let events = try await recordFive()
        var forged = events[2]
        forged.outcome = "ok"
        forged.status = 200
        let hash = forged.computedHash
        try sqlite("UPDATE audit_events SET outcome = 'ok', status = 200, hash = '\(hash)' WHERE sequence = 3")
        #expect(try await trail.verify().firstBreak == .init(sequence: 4, reason: .brokenLink))

        try sqlite("UPDATE audit_events SET outcome = 'unauthorized', status = 401, hash = '\(events[2].hash)' WHERE sequence = 3")
        #expect(try await trail.verify().isIntact)
        try sqlite("UPDATE audit_events SET sequence = 9 WHERE sequence = 5")
        #expect(try await trail.verify().firstBreak == .init(sequence: 9, reason: .outOfSequence))
    }

    @Test("an event inserted in the middle is caught")
    func inserted() async throws {
        let events = try await recordFive()
        // A copy of event 2 placed after it, the rest moved up by one.
        for s in (3...5).reversed() { try sqlite("UPDATE audit_events SET sequence = \(s + 1) WHERE sequence = \(s)") }
        try sqlite(
            "INSERT INTO audit_events (id, sequence, at, token_name, role, address, method, route, status, outcome, target, detail, previous_hash, hash) SELECT '00000000-0000-0000-0000-000000000001', 3, at, token_name, role, address, method, route, status, outcome, target, detail, previous_hash, hash FROM audit_events WHERE sequence = 2"
        )
        #expect(events.count == 5)
        #expect(try await trail.verify().firstBreak == .init(sequence: 3, reason: .brokenLink))
    }

    @Test("the list filters by time, token and outcome, newest first, and limits")
    func list() async throws {
        _ = try await recordFive()
        #expect(try await trail.list().map(\.sequence) == [5, 4, 3, 2, 1])
        #expect(try await trail.list(AuditFilter(tokenName: "ops")).map(\.sequence) == [5, 2, 1])
        #expect(try await trail.list(AuditFilter(outcome: "unauthorized")).map(\.sequence) == [3])
        #expect(try await trail.list(AuditFilter(since: start.addingTimeInterval(2 * 3600))).map(\.sequence) == [5, 4, 3])
        #expect(try await trail.list(AuditFilter(tokenName: "ops", limit: 2)).map(\.sequence) == [5, 2])
    }
}
