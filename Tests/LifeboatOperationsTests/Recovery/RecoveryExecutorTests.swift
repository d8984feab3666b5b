import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

@Suite("RecoveryExecutor: plans run for real, drills in a sandbox", .timeLimit(.minutes(5)))
struct RecoveryExecutorTests {
    let scratch = ScratchDirectory("recovery")

    static let drillPlan = """
        name: orders
        systemType: CRITICAL
        rpo: 1h
        steps:
          - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
          - {name: restore-config, type: RESTORE_BACKUP, source: app-config, after: []}
          - {name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "SELECT count(*) = 300 FROM orders", after: [restore-db]}
          - {name: verify-config, type: VERIFY_SYSTEM, source: app-config, after: [restore-config]}
          - name: smoke
            type: RUN_COMMAND
            command: ['/bin/sh', '-c', 'echo "$LIFEBOAT_SANDBOX_APP_DB_PATH|$LIFEBOAT_SANDBOX_APP_CONFIG_PATH|$LIFEBOAT_MODE|${LIFEBOAT_PASSWORD:-unset}" > "$OUT"; test -f "$LIFEBOAT_SANDBOX_APP_DB_PATH"']
            environment: {OUT: "%OUT%"}
            runInTest: true
            after: [verify-db, verify-config]
          - {name: wipe-production, type: RUN_COMMAND, command: ["/bin/rm", "-rf", "%PROD%"]}
          - {name: health, type: HTTP_CHECK, url: "%URL%/health", runInTest: true}
          - {name: tell, type: NOTIFY, webhook: ops, message: "orders restored"}
          - {name: settle, type: WAIT, duration: 0s}
        testing: {every: 90d}
        """

    func drillText(_ f: RecoveryFixture, out: String) -> String {
        Self.drillPlan.replacingOccurrences(of: "%OUT%", with: out).replacingOccurrences(of: "%PROD%", with: f.production)
            .replacingOccurrences(of: "%URL%", with: f.webhook.url)
    }

    @Test("a drill of a plan with restores, checks, a command, an HTTP check, a notification and a wait passes, leaves production byte-identical and no sandbox behind")
    func drill() async throws {
        let f = try await RecoveryFixture(scratch)
        let out = scratch.path + "/smoke.out"
        try await f.store(drillText(f, out: out))
        let before = f.productionState
        let record = try await f.run("orders", .test)
        #expect(record.status == .succeeded, "\(record.steps.map { "\($0.name) \($0.status) \($0.log)" })")
        #expect(record.steps.map(\.status) == [.succeeded, .succeeded, .succeeded, .succeeded, .succeeded, .skipped, .succeeded, .succeeded, .succeeded])
        #expect(record.steps.allSatisfy { $0.attempts == ($0.status == .skipped ? 0 : 1) })
        #expect(f.productionState == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.drills).isEmpty)
        // The command saw the sandbox copy, not production.
        let seen = try String(contentsOfFile: out, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map(String.init)
        #expect(seen.count == 4 && seen.last == "unset", "the passphrase is not passed to commands: \(seen)")
        #expect(seen.first?.hasPrefix(f.drills + "/lifeboat-drill-") == true && seen.first?.hasSuffix("/app-db/app.db") == true, "\(seen)")
        #expect(seen.dropFirst().first?.hasSuffix("/app-config" + f.configFolder) == true && seen.dropFirst(2).first == "TEST", "\(seen)")
        let posted = try #require(f.webhook.received.first)
        #expect(posted.contains("\"drill\":true") && posted.contains("[DRILL] orders restored"), "\(posted)")
        #expect(record.restorePoint != nil && (record.rpoAchievedSeconds ?? -1) >= 0)
        #expect(RecoveryObjectives(record: record).isRTOMet == true && RecoveryObjectives(record: record).isRPOMet == true)
        let listed = try #require(try await RecoveryPlans(context: f.context).list().first)
        // The catalog keeps times to the millisecond.
        let finished = try #require(record.finishedAt)
        #expect(abs((listed.lastDrill ?? .distantPast).timeIntervalSince(finished)) < 0.01 && listed.isOverdue == false, "\(listed)")
    }

    @Test("a drill whose check fails is FAILED, and its sandbox is removed all the same")
    func failedDrill() async throws {
        let f = try await RecoveryFixture(scratch)
        try await f.store("""
            name: wrong
            systemType: IMPORTANT
            steps:
              - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
              - {name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "SELECT count(*) = 5 FROM orders"}
              - {name: never, type: WAIT, duration: 0s}
            """)
        let before = f.productionState
        let record = try await f.run("wrong", .test)
        #expect(record.status == .failed)
        #expect(record.step("verify-db")?.log.contains("returned 0, not true") == true, "\(record.step("verify-db")?.log ?? "")")
        #expect(record.steps.map(\.status) == [.succeeded, .failed, .skipped])
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.drills).isEmpty)
        #expect(f.productionState == before)
    }

    @Test("EXECUTE after the production database was deleted restores it, and the check query passes")
    func executeAfterLoss() async throws {
        let f = try await RecoveryFixture(scratch)
        let original = try Data(contentsOf: URL(fileURLWithPath: f.database))
        try FileManager.default.removeItem(atPath: f.database)
        try await f.store("""
            name: db
            systemType: CRITICAL
            steps:
              - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
              - {name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "SELECT count(*) = 300 FROM orders"}
            """)
        let record = try await f.run("db", .execute)
        #expect(record.status == .succeeded, "\(record.steps.map(\.log))")
        #expect(record.step("verify-db")?.log.contains("is true") == true)
        #expect(FileManager.default.fileExists(atPath: f.database))
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.database)).count == original.count)
        #expect(!FileManager.default.fileExists(atPath: f.database + ".before-" + record.id.uuidString.lowercased()))
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.production).sorted() == ["app.db", "config"])
    }

    @Test("EXECUTE keeps what was at each target beside it as .before-<execution id>")
    func executeKeepsPrevious() async throws {
        let f = try await RecoveryFixture(scratch)
        try FileTree.write(f.configFolder + "/app.yaml", Array("listen: broken\n".utf8))
        try await f.store("name: config\nsystemType: IMPORTANT\nsteps: [{name: restore, type: RESTORE_BACKUP, source: app-config}, {name: check, type: VERIFY_SYSTEM, source: app-config}]\n")
        let record = try await f.run("config", .execute)
        #expect(record.status == .succeeded, "\(record.steps.map(\.log))")
        #expect(try String(contentsOfFile: f.configFolder + "/app.yaml", encoding: .utf8) == "listen: 127.0.0.1:8080\n")
        let kept = f.configFolder + ".before-" + record.id.uuidString.lowercased()
        #expect(try String(contentsOfFile: kept + "/app.yaml", encoding: .utf8) == "listen: broken\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.production).filter { $0.hasPrefix(".lifeboat-staging") }.isEmpty)
    }

    @Test("a step that times out is retried, then fails the execution; the steps after it are skipped")
    func timeout() async throws {
        let f = try await RecoveryFixture(scratch)
        try await f.store("""
            name: slow
            systemType: IMPORTANT
            steps:
              - {name: hang, type: RUN_COMMAND, command: [sleep, "600"], timeout: 1s, retries: 1}
              - {name: after, type: WAIT, duration: 0s}
            """)
        let record = try await f.run("slow", .execute)
        #expect(record.status == .failed)
        let hang = try #require(record.step("hang"))
        #expect(hang.status == .failed && hang.attempts == 2)
        #expect(hang.log.contains("attempt 1 failed: step 'hang' did not finish within its timeout of 1s; retrying"), "\(hang.log)")
        #expect(record.step("after")?.status == .skipped)
        #expect(record.error?.contains("critical step hang failed") == true)
    }

    @Test("a non-critical step that fails makes SUCCEEDED_WITH_WARNINGS")
    func warnings() async throws {
        let f = try await RecoveryFixture(scratch)
        try await f.store("name: warn\nsystemType: IMPORTANT\nsteps: [{name: probe, type: HTTP_CHECK, url: \"\(f.webhook.url)/status/503\", critical: false}, {name: w, type: WAIT, duration: 0s}]\n")
        let record = try await f.run("warn", .execute)
        #expect(record.status == .succeededWithWarnings)
        #expect(record.step("probe")?.log.contains("answered 503, expected 200") == true)
        #expect(record.step("w")?.status == .succeeded)
    }

    @Test("an RTO longer than the target is recorded as missed")
    func missedRTO() async throws {
        let f = try await RecoveryFixture(scratch)
        try await f.store("name: tight\nsystemType: CRITICAL\nrto: 1h\nrpo: 30m\nsteps: [{name: restore-db, type: RESTORE_BACKUP, source: app-db}]\n")
        // The incident was two hours ago: whatever the machine's speed, the recovery ends past the one-hour target.
        let record = try await f.run("tight", .test, incidentTime: Date().addingTimeInterval(-7200))
        #expect(record.status == .succeeded)
        let objectives = RecoveryObjectives(record: record)
        #expect(objectives.isRTOMet == false && (objectives.rtoAchievedSeconds ?? 0) >= 7200)
        // The snapshot was taken after the incident: no data lost.
        #expect(objectives.isRPOMet == true && objectives.rpoAchievedSeconds == 0)
    }

    @Test("an approval waits for its row; cancel stops an execution that waits")
    func approvalAndCancel() async throws {
        let f = try await RecoveryFixture(scratch)
        try await f.store("name: gated\nsystemType: IMPORTANT\nsteps: [{name: sign-off, type: MANUAL_APPROVAL}, {name: w, type: WAIT, duration: 0s}]\n")
        let executor = f.executor
        for approve in [true, false] {
            let id = try await executor.start(.init(plan: "gated", mode: .execute))
            let (waiting, signal) = AsyncStream<Void>.makeStream()
            async let ran = executor.run(id, passphrase: { TestRepository.passphrase }) { event in
                if case .waitingForApproval = event { signal.yield() }
            }
            var it = waiting.makeAsyncIterator()
            _ = await it.next()
            let row = try await executor.status(id)
            #expect(row.status == .waitingApproval && row.step("sign-off")?.status == .waitingApproval)
            await #expect(throws: RecoveryError.self) { try await executor.approve(id, step: "w", user: "ann", comment: nil) }
            if approve {
                try await executor.approve(id, step: "sign-off", user: "ann", comment: "looks right")
                let record = try await ran
                #expect(record.status == .succeeded)
                #expect(record.step("sign-off")?.approvedBy == "ann" && record.step("sign-off")?.log.contains("approved by ann") == true)
            } else {
                _ = try await executor.cancel(id)
                let record = try await ran
                #expect(record.status == .cancelled)
                #expect(record.steps.map(\.status) == [.cancelled, .cancelled])
            }
        }
    }

    @Test("plan revisions are all kept; the same text adds none")
    func revisions() async throws {
        let f = try await RecoveryFixture(scratch)
        let first = "name: keep\nsystemType: IMPORTANT\nsteps: [{name: w, type: WAIT, duration: 1s}]\n"
        try await f.store(first)
        try await f.store(first)
        try await f.store(first.replacingOccurrences(of: "1s", with: "2s"))
        let plans = RecoveryPlans(context: f.context)
        #expect(try await plans.show("keep").revision.revision == 2)
        #expect(try await plans.show("keep", revision: 1).revision.document == first)
        #expect(try await plans.show("keep", revision: 1).plan.steps[0].duration?.seconds == 1)
        await #expect(throws: RecoveryPlanError.self) { try await plans.show("keep", revision: 3) }
        await #expect(throws: RecoveryPlanError.self) { try await plans.show("nope") }
        #expect(try await f.context.withCatalog { try await $0.planRevisions(name: "keep") }.map(\.revision) == [1, 2])
    }
}
