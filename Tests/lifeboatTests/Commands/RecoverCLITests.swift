import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `lifeboat plan …` and `lifeboat recover …` as an operator runs them: plans checked with
/// their lines, drills and executions in the foreground, approvals and cancels from another
/// shell, and a resume after the executor was killed.
@Suite("plan and recover", .timeLimit(.minutes(10)))
struct RecoverCLITests {
    let scratch = ScratchDirectory("recover")
    let cli: LifeboatCLI
    let config: String
    let production: String
    let database: String
    let drills: String
    let webhook: WebhookServer

    init() throws {
        cli = try LifeboatCLI(scratch: scratch)
        production = try scratch.sub("production")
        drills = try scratch.sub("tmp")
        database = production + "/app.db"
        try FileTree.write(try scratch.sub("production/config") + "/app.yaml", Array("listen: 127.0.0.1:8080\n".utf8))
        let made = try Shell.run("/usr/bin/python3", [
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)'); c.executemany('INSERT INTO orders (item) VALUES (?)', [('item %d' % i,) for i in range(300)]); c.commit()",
            database,
        ])
        precondition(made.status == 0, made.stderr)
        webhook = try WebhookServer(log: scratch.path + "/webhook.log")
        config = scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app-db, kind: sqlite, path: \(database) }
              - { name: app-config, kind: files, paths: [\(production)/config] }
            webhooks:
              ops: "\(webhook.url)/hook"
              slack: "\(webhook.url)/services/T0SECRET1/B0SECRET2/xoxSECRET3?token=SECRET4"
              gone: "http://127.0.0.1:1/services/T0/B0/GONESECRET5?token=SECRET6"
              held: "\(webhook.url)/hold/services/T0/B0/HELDSECRET7"
            """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// Drills' sandboxes go to `drills` (TMPDIR), so that one left behind is seen.
    var environment: [String: String] { cli.environment(config: config).merging(["TMPDIR": drills]) { _, new in new } }

    func run(_ arguments: [String]) throws -> Shell.Output {
        try cli.run(arguments, environment: environment)
    }

    func backedUp() throws {
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        for source in ["app-db", "app-config"] {
            let out = try run(["run", source])
            #expect(out.status == 0, "\(out.stderr)")
        }
    }

    func plan(_ text: String, named name: String = "plan.yaml") throws -> String {
        let file = scratch.path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func json(_ arguments: [String]) throws -> [String: Any] {
        let out = try run(arguments + ["--json"])
        #expect(out.status == 0, "\(arguments): \(out.stderr)")
        return try #require(try LifeboatCLI.json(out) as? [String: Any])
    }

    /// A `recover` in the background, its stdout read as it is written.
    final class Background: @unchecked Sendable {
        // @unchecked Sendable: used by the test's one task.
        let process = Process()
        let lines: LineReader

        init(_ arguments: [String], environment: [String: String]) throws {
            let stdout = Pipe()
            process.executableURL = URL(fileURLWithPath: LifeboatCLI.executable)
            process.arguments = arguments
            process.environment = environment
            process.standardOutput = stdout
            process.standardError = stdout
            try process.run()
            lines = LineReader(stdout.fileHandleForReading)
        }

        /// The execution's id, from its first line.
        func executionID() throws -> String {
            guard lines.waitFor(": plan "), let match = lines.output.firstMatch(of: /execution ([0-9a-f-]{36})/) else {
                throw NoExecutionLine(output: lines.output)
            }
            return String(match.1)
        }

        func end() -> (status: Int32, output: String) {
            let output = lines.readToEnd()
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
    }

    struct NoExecutionLine: Error {
        let output: String
    }

    @Test("plan validate names the file and line; create keeps every revision; list and show read them back")
    func plans() throws {
        let bad = try plan("name: orders\nsystemType: CRITICAL\nsteps:\n  - {name: r, type: RESTORE_BACKUP, source: app-db}\n  - {name: v, type: VERIFY_SYSTEM, source: nope}\n")
        let refused = try run(["plan", "validate", bad])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("\(bad):5: step 'v' names source 'nope'"), "\(refused.stderr)")
        #expect(try run(["plan", "create", bad]).status == 1)
        #expect((try LifeboatCLI.json(try run(["plan", "list", "--json"])) as? [Any])?.isEmpty == true)

        let good = try plan("name: orders\nsystemType: CRITICAL\nrpo: 1h\nsteps:\n  - {name: r, type: RESTORE_BACKUP, source: app-db}\ntesting: {every: 90d}\n")
        let valid = try run(["plan", "validate", good])
        #expect(valid.status == 0 && valid.stdout.contains("plan 'orders' is valid: 1 steps, CRITICAL, RTO 4h, RPO 1h"), "\(valid.stdout)")
        #expect(try json(["plan", "create", good])["revision"] as? Int == 1)
        #expect(try json(["plan", "create", good])["created"] as? Bool == false)
        let changed = try plan("name: orders\nsystemType: CRITICAL\nrto: 2h\nsteps:\n  - {name: r, type: RESTORE_BACKUP, source: app-db}\n", named: "plan2.json")
        #expect(try json(["plan", "create", changed])["revision"] as? Int == 2)
        let list = try #require(try LifeboatCLI.json(try run(["plan", "list", "--json"])) as? [[String: Any]])
        #expect(list.count == 1 && list[0]["revision"] as? Int == 2 && list[0]["rtoSeconds"] as? Int == 7200, "\(list)")
        #expect(try json(["plan", "show", "orders", "--revision", "1"])["rpoSeconds"] as? Int == 3600)
        let show = try run(["plan", "show", "orders"])
        #expect(show.status == 0 && show.stdout.contains("RTO 2h") && show.stdout.contains("1. r RESTORE_BACKUP"), "\(show.stdout)")
        let missing = try run(["plan", "show", "orders", "--revision", "7"])
        #expect(missing.status == 1 && missing.stderr.contains("plan 'orders' has no revision 7: its revisions are 1 to 2"), "\(missing.stderr)")
    }

    @Test("a drill prints its steps, exits 0 with its targets met, leaves production byte-identical and no sandbox; status --json has the issue's fields")
    func drill() throws {
        try backedUp()
        let file = try plan("""
            name: orders
            systemType: CRITICAL
            rpo: 1h
            steps:
              - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
              - {name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "SELECT count(*) > 0 FROM orders"}
              - {name: restart, type: RUN_COMMAND, command: ["/bin/rm", "-f", "\(database)"]}
              - {name: health, type: HTTP_CHECK, url: "\(webhook.url)/health", runInTest: true}
              - {name: tell, type: NOTIFY, webhook: ops, message: "orders restored"}
              - {name: settle, type: WAIT, duration: 0s}
            """)
        #expect(try run(["plan", "create", file]).status == 0)
        let before = TestRepository.allObjects(at: production)
        let out = try run(["recover", "orders", "--test", "--user", "ann"])
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        #expect(out.stdout.contains("step restore-db (RESTORE_BACKUP): started") && out.stdout.contains("step restart: SKIPPED"), "\(out.stdout)")
        #expect(out.stdout.contains("SUCCEEDED; RTO"), "\(out.stdout)")
        #expect(TestRepository.allObjects(at: production) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: drills).isEmpty)
        #expect(webhook.received.first?.contains("[DRILL] orders restored") == true)

        let id = try #require(out.stdout.firstMatch(of: /execution ([0-9a-f-]{36})/).map { String($0.1) })
        let status = try json(["recover", "status", id])
        #expect(status["id"] as? String == id && status["plan"] as? String == "orders" && status["revision"] as? Int == 1)
        #expect(status["mode"] as? String == "TEST" && status["status"] as? String == "SUCCEEDED" && status["user"] as? String == "ann")
        for key in ["startedAt", "finishedAt", "incidentTime"] { #expect(status[key] is String, "\(key)") }
        let rto = try #require(status["rto"] as? [String: Any])
        #expect(rto["targetSeconds"] as? Double == 14_400 && rto["met"] as? Bool == true && rto["achievedSeconds"] is Double)
        let rpo = try #require(status["rpo"] as? [String: Any])
        #expect(rpo["targetSeconds"] as? Double == 3600 && rpo["met"] as? Bool == true && rpo["restorePoint"] is String)
        let steps = try #require(status["steps"] as? [[String: Any]])
        #expect(steps.map { $0["name"] as? String } == ["restore-db", "verify-db", "restart", "health", "tell", "settle"])
        #expect(steps.map { $0["status"] as? String } == ["SUCCEEDED", "SUCCEEDED", "SKIPPED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED"])
        for step in steps { for key in ["type", "attempts", "log"] { #expect(step[key] != nil, "\(key)") } }
        let list = try #require(try LifeboatCLI.json(try run(["recover", "list", "--plan", "orders", "--json"])) as? [[String: Any]])
        #expect(list.map { $0["id"] as? String } == [id])
    }

    @Test("a recovery that misses its RTO exits 3 and says MISSED")
    func missedTarget() throws {
        try backedUp()
        #expect(try run(["plan", "create", try plan("name: tight\nsystemType: CRITICAL\nrto: 1h\nsteps: [{name: r, type: RESTORE_BACKUP, source: app-db}]\n")]).status == 0)
        let incident = ISO8601.format(Date().addingTimeInterval(-7200))
        let out = try run(["recover", "tight", "--test", "--incident-time", incident])
        #expect(out.status == 3, "\(out.stdout) \(out.stderr)")
        #expect(out.stdout.contains("(MISSED)"), "\(out.stdout)")
        #expect(try run(["recover", "tight", "--incident-time", "yesterday"]).status == 64)
    }

    @Test("recover waits for an approval, printing the command; approve lets it finish; cancel stops it")
    func approval() throws {
        try backedUp()
        #expect(try run(["plan", "create", try plan("name: gated\nsystemType: IMPORTANT\nsteps: [{name: sign-off, type: MANUAL_APPROVAL}, {name: w, type: WAIT, duration: 0s}]\n")]).status == 0)
        let approved = try Background(["recover", "gated"], environment: environment)
        let id = try approved.executionID()
        #expect(approved.lines.waitFor("waiting for approval: lifeboat recover approve \(id) sign-off"), "\(approved.lines.output)")
        let approve = try run(["recover", "approve", id, "sign-off", "--user", "ann", "--comment", "restored data checked"])
        #expect(approve.status == 0, "\(approve.stderr)")
        let end = approved.end()
        #expect(end.status == 0, "\(end.output)")
        #expect(try json(["recover", "status", id])["status"] as? String == "SUCCEEDED")
        #expect(try run(["recover", "approve", id, "sign-off"]).status == 1)

        let cancelled = try Background(["recover", "gated"], environment: environment)
        let other = try cancelled.executionID()
        #expect(cancelled.lines.waitFor("waiting for approval"), "\(cancelled.lines.output)")
        #expect(try run(["recover", "cancel", other]).status == 0)
        let stopped = cancelled.end()
        #expect(stopped.status == 1 && stopped.output.contains("CANCELLED"), "\(stopped.output)")
        let status = try json(["recover", "status", other])
        #expect(status["status"] as? String == "CANCELLED")
        #expect((status["steps"] as? [[String: Any]])?.map { $0["status"] as? String } == ["CANCELLED", "CANCELLED"])
    }

    @Test(
        "recover killed by SIGKILL during a step, then resume: SUCCEEDED, no finished step done twice, the lost database restored",
        arguments: ["restore-db", "hold"])
    func killAndResume(during killed: String) throws {
        try backedUp()
        try FileManager.default.removeItem(atPath: database)
        let fifo = scratch.path + "/hold.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let marks = scratch.path + "/marks.log"
        let holds = scratch.path + "/holds.log"
        let release = scratch.path + "/release"
        #expect(
            try run([
                "plan", "create",
                try plan("""
                    name: crash
                    systemType: CRITICAL
                    steps:
                      - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
                      - {name: mark, type: RUN_COMMAND, command: ['/bin/sh', '-c', 'echo done >> \(marks)']}
                      - {name: hold, type: RUN_COMMAND, command: ['/bin/sh', '-c', 'echo run >> \(holds); [ -f \(release) ] || cat \(fifo)']}
                      - {name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "SELECT count(*) = 300 FROM orders"}
                    """),
            ]).status == 0)
        let wait = try EventWait()
        // The restore reads the repository's packs: leased, its first open blocks until the test lets go.
        let packs = killed == "restore-db" ? try FileLeases(TestRepository.allObjects(at: scratch.path + "/primary").keys.filter { $0.hasPrefix("data/") }.map { scratch.path + "/primary/" + $0 }) : nil
        wait.wake(onSignal: SIGWINCH)
        try wait.watch(tree: scratch.path)
        let first = try Background(["recover", "crash"], environment: environment)
        let id = try first.executionID()
        wait.wake(onEndOf: first.process)
        if let packs {
            try wait.until("the restore to open a pack") { !packs.contended.isEmpty || !first.process.isRunning }
        } else {
            // The step's own mark says its command runs (and blocks on the FIFO).
            try wait.until("the hold step's command to run") { FileManager.default.fileExists(atPath: holds) || !first.process.isRunning }
        }
        try #require(first.process.isRunning, "recover ended before \(killed): \(first.lines.output)")
        kill(first.process.processIdentifier, SIGKILL)
        _ = first.end()
        packs?.releaseAll()
        if killed == "hold" {
            // The killed executor's command lives on and goes to read the FIFO (no release file
            // yet): opening its other end waits for that reader, closing it lets the reader go.
            let writer = open(fifo, O_WRONLY)
            close(writer)
        }
        #expect(FileManager.default.createFile(atPath: release, contents: nil))

        let interrupted = try json(["recover", "status", id])
        #expect(interrupted["status"] as? String == "INTERRUPTED", "\(interrupted)")
        let resumed = try run(["recover", "resume", id])
        #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        #expect(resumed.stdout.contains("resumed execution \(id)"), "\(resumed.stdout)")
        let status = try json(["recover", "status", id])
        #expect(status["status"] as? String == "SUCCEEDED")
        let steps = try #require(status["steps"] as? [[String: Any]])
        #expect(steps.map { $0["attempts"] as? Int } == (killed == "hold" ? [1, 1, 2, 1] : [2, 1, 1, 1]), "\(steps)")
        #expect(try String(contentsOfFile: marks, encoding: .utf8) == "done\n")
        #expect(try String(contentsOfFile: holds, encoding: .utf8) == (killed == "hold" ? "run\nrun\n" : "run\n"))
        #expect(FileManager.default.fileExists(atPath: database))
        #expect(try FileManager.default.contentsOfDirectory(atPath: production).sorted() == ["app.db", "config"], "no staging file left")
        #expect(try run(["recover", "resume", id]).status == 1)
    }

    @Test(
        "recover killed by SIGKILL during VERIFY_SYSTEM or WAIT, then resume: SUCCEEDED, the killed step run again, no finished step done twice",
        arguments: ["verify-db", "settle"])
    func killDuringCheckOrWait(during killed: String) throws {
        try backedUp()
        try FileManager.default.removeItem(atPath: database)
        let marks = scratch.path + "/marks.log"
        // Long enough (a count to three million) that the kill lands while it runs.
        let slow = "SELECT (SELECT count(*) FROM orders) = 300 AND (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c) = 3000000"
        #expect(
            try run([
                "plan", "create",
                try plan("""
                    name: crash
                    systemType: CRITICAL
                    steps:
                      - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
                      - {name: mark, type: RUN_COMMAND, command: ['/bin/sh', '-c', 'echo done >> \(marks)']}
                      - {name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "\(slow)"}
                      - {name: settle, type: WAIT, duration: 2s}
                    """),
            ]).status == 0)
        let first = try Background(["recover", "crash"], environment: environment)
        let id = try first.executionID()
        #expect(first.lines.waitFor("step \(killed) ("), "\(first.lines.output)")
        try #require(first.process.isRunning, "recover ended before \(killed): \(first.lines.output)")
        kill(first.process.processIdentifier, SIGKILL)
        _ = first.end()
        let interrupted = try json(["recover", "status", id])
        #expect(interrupted["status"] as? String == "INTERRUPTED", "\(interrupted)")
        let killedRow = (interrupted["steps"] as? [[String: Any]])?.first { $0["name"] as? String == killed }
        #expect(killedRow?["status"] as? String == "RUNNING", "the kill landed during \(killed): \(killedRow ?? [:])")

        let resumed = try run(["recover", "resume", id])
        #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        let status = try json(["recover", "status", id])
        #expect(status["status"] as? String == "SUCCEEDED")
        let steps = try #require(status["steps"] as? [[String: Any]])
        #expect(steps.map { $0["attempts"] as? Int } == (killed == "verify-db" ? [1, 1, 2, 1] : [1, 1, 1, 2]), "\(steps)")
        #expect(try String(contentsOfFile: marks, encoding: .utf8) == "done\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: production).sorted() == ["app.db", "config"], "restored once, no staging file left")
    }

    @Test("Ctrl-C leaves an execution INTERRUPTED (exit 130); an approval given meanwhile counts when it is resumed")
    func interruptAndResume() throws {
        try backedUp()
        #expect(try run(["plan", "create", try plan("name: gated\nsystemType: IMPORTANT\nsteps: [{name: sign-off, type: MANUAL_APPROVAL}, {name: w, type: WAIT, duration: 0s}]\n")]).status == 0)
        let first = try Background(["recover", "gated"], environment: environment)
        let id = try first.executionID()
        #expect(first.lines.waitFor("waiting for approval"), "\(first.lines.output)")
        kill(first.process.processIdentifier, SIGINT)
        let end = first.end()
        #expect(end.status == 130, "\(end.output)")
        #expect(try json(["recover", "status", id])["status"] as? String == "INTERRUPTED")
        #expect(try run(["recover", "approve", id, "sign-off", "--user", "ann"]).status == 0)
        let resumed = try run(["recover", "resume", String(id.prefix(8))])
        #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        let status = try json(["recover", "status", id])
        #expect(status["status"] as? String == "SUCCEEDED")
        #expect((status["steps"] as? [[String: Any]])?.first?["approvedBy"] as? String == "ann")
    }

    @Test("the runbook's commands restore the database by hand from the location and the passphrase alone; deadlines are dates; HTML is one page")
    func runbook() throws {
        try backedUp()
        let file = try plan("""
            name: orders
            systemType: CRITICAL
            rpo: 1h
            steps:
              - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
              - {name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "SELECT count(*) = 300 FROM orders"}
              - {name: health, type: HTTP_CHECK, url: "\(webhook.url)/health"}
            team: [{name: Dana, role: incident lead, email: dana@example.org, phone: "+1 555 0100"}]
            vendors: [{name: Cloud Storage Inc, service: SECONDARY bucket, phone: "+1 555 0199"}]
            regulatory: [{name: "GDPR Art. 33", authority: supervisory authority, deadline: 72h, when: personal data affected}]
            """)
        #expect(try run(["plan", "create", file]).status == 0)
        let out = try run(["plan", "runbook", "orders", "--incident-time", "2026-11-27T10:00:00Z"])
        #expect(out.status == 0, "\(out.stderr)")
        let text = out.stdout
        for expected in ["# Recovery runbook: orders", "### 1. restore-db (RESTORE_BACKUP)", "lifeboat snapshots --repo \(scratch.path)/primary", "| Dana | incident lead |",
            "| GDPR Art. 33 | supervisory authority | personal data affected | 72h after the incident | 2026-11-30T10:00:00", "Cloud Storage Inc", "the recovery is due by 2026-11-27T14:00:00"]
        {
            #expect(text.contains(expected), "missing \(expected) in \(text)")
        }
        // The restore step's block, run by a person: production's database comes back.
        let block = try #require(text.components(separatedBy: "### 1. restore-db (RESTORE_BACKUP)").last?.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "\n```").first)
        try FileManager.default.removeItem(atPath: database)
        let folder = URL(fileURLWithPath: LifeboatCLI.executable).deletingLastPathComponent().path
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = folder + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        for key in ["LIFEBOAT_REPOSITORY", "LIFEBOAT_PASSWORD", "LIFEBOAT_PASSWORD_FILE", "LIFEBOAT_CONFIG"] { env.removeValue(forKey: key) }
        let byHand = try Shell.run("/bin/sh", ["-c", block.replacingOccurrences(of: "/path/to/passphrase", with: cli.passwordFile)], environment: env)
        #expect(byHand.status == 0, "\(block)\n\(byHand.stdout)\(byHand.stderr)")
        #expect(FileManager.default.fileExists(atPath: database), "\(block)")

        let page = scratch.path + "/runbook.html"
        #expect(try run(["plan", "runbook", "orders", "--format", "html", "--output", page]).status == 0)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("@media print") && html.contains("<h3>1. restore-db (RESTORE_BACKUP)</h3>"))
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("src="), "the page needs nothing from outside")
        #expect(try run(["plan", "runbook", "nope"]).status == 1)
    }

    @Test("report: per plan the targets, every drill and execution met or missed, the next drill, verified restores per location, revisions, contacts reviewed")
    func report() throws {
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        #expect(try run(["run", "app-db", "--restore-test"]).status == 0)
        let first = "name: orders\nsystemType: CRITICAL\nrto: 1h\nrpo: 1h\nteam: [{name: Dana}]\nsteps: [{name: r, type: RESTORE_BACKUP, source: app-db}]\ntesting: {every: 90d}\n"
        #expect(try run(["plan", "create", try plan(first, named: "a.yaml")]).status == 0)
        #expect(try run(["plan", "create", try plan(first.replacingOccurrences(of: "Dana", with: "Eve"), named: "b.yaml")]).status == 0)
        #expect(try run(["plan", "create", try plan(first.replacingOccurrences(of: "Dana", with: "Eve").replacingOccurrences(of: "rpo: 1h", with: "rpo: 2h"), named: "c.yaml")]).status == 0)
        #expect(try run(["recover", "orders", "--test"]).status == 0)
        #expect(try run(["recover", "orders", "--test", "--incident-time", ISO8601.format(Date().addingTimeInterval(-7200))]).status == 3)

        let out = try run(["report", "--format", "json"])
        #expect(out.status == 0, "\(out.stderr)")
        let report = try #require(try LifeboatCLI.json(out) as? [String: Any])
        let plans = try #require(report["plans"] as? [[String: Any]])
        #expect(plans.count == 1)
        let p = plans[0]
        #expect(p["name"] as? String == "orders" && p["revision"] as? Int == 3 && p["rtoTargetSeconds"] as? Int == 3600 && p["rpoTargetSeconds"] as? Int == 7200)
        #expect(p["isOverdue"] as? Bool == false && p["lastDrill"] is String && p["nextDrillDue"] is String)
        let executions = try #require(p["executions"] as? [[String: Any]])
        #expect(executions.map { $0["rtoMet"] as? Bool } == [false, true], "\(executions)")
        let tests = try #require(p["restoreTests"] as? [[String: Any]])
        #expect(tests.map { "\($0["source"] ?? "") \($0["location"] ?? "") \($0["result"] ?? "")" } == ["app-db primary PASSED"], "\(tests)")
        #expect(tests.first?["execution"] == nil, "a drill that restored but checked nothing is no evidence: \(tests)")
        let revisions = try #require(p["revisions"] as? [[String: Any]])
        #expect(revisions.map { $0["revision"] as? Int } == [1, 2, 3])
        #expect(p["contactsReviewedAt"] as? String == revisions[1]["createdAt"] as? String, "the team changed in revision 2, not 3")

        let markdown = try run(["report"])
        #expect(markdown.status == 0 && markdown.stdout.contains("# Disaster-recovery evidence") && markdown.stdout.contains("| MISSED |") && markdown.stdout.contains("| met |"), "\(markdown.stdout)")
        let page = scratch.path + "/report.html"
        #expect(try run(["report", "--plan", "orders", "--format", "html", "--output", page]).status == 0)
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains("<h2>Plan orders (revision 3)</h2>"))
        #expect(try run(["report", "--plan", "nope"]).status == 1)
    }

    @Test("a webhook's URL (a token in its path or query) is never shown whole: not by recover, status, list, the runbook, the report, nor kept in the catalog; the POST goes to the whole URL")
    func webhookSecret() throws {
        try backedUp()
        #expect(
            try run([
                "plan", "create",
                try plan("""
                    name: orders
                    systemType: CRITICAL
                    steps:
                      - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
                      - {name: tell, type: NOTIFY, webhook: slack, message: "orders restored"}
                      - {name: tell-gone, type: NOTIFY, webhook: gone, message: "orders restored", critical: false}
                    """),
            ]).status == 0)
        let drill = try run(["recover", "orders", "--test"])
        #expect(drill.status == 3, "the unreachable webhook only warns: \(drill.stdout) \(drill.stderr)")
        let id = try #require(drill.stdout.firstMatch(of: /execution ([0-9a-f-]{36})/).map { String($0.1) })
        #expect(webhook.received.contains { $0.hasPrefix("POST /services/T0SECRET1/B0SECRET2/xoxSECRET3?token=SECRET4 ") }, "\(webhook.received)")
        #expect(drill.stdout.contains("the webhook 'gone' (http://127.0.0.1:1/…) could not be reached"), "\(drill.stdout)")

        var shown = [("recover", drill.stdout + drill.stderr)]
        for arguments in [
            ["recover", "status", id], ["recover", "status", id, "--json"], ["recover", "list", "--json"], ["plan", "runbook", "orders"],
            ["plan", "runbook", "orders", "--format", "html"], ["report"], ["report", "--format", "json"], ["plan", "show", "orders", "--json"],
        ] {
            let out = try run(arguments)
            #expect(out.status == 0, "\(arguments): \(out.stderr)")
            shown.append((arguments.joined(separator: " "), out.stdout + out.stderr))
        }
        for (what, text) in shown { #expect(!text.contains("SECRET"), "\(what) shows a webhook's secret: \(text)") }
        let runbook = try #require(shown.first { $0.0 == "plan runbook orders" }?.1)
        #expect(runbook.contains("WEBHOOK_SLACK: the whole URL of webhook 'slack' (\(webhook.url)/…)") && runbook.contains("\"$WEBHOOK_SLACK\""), "\(runbook)")
        // What the catalog stores (its database and journal files) carries none either.
        for name in try FileManager.default.contentsOfDirectory(atPath: scratch.path) where name.hasPrefix("catalog") {
            let bytes = try #require(FileManager.default.contents(atPath: scratch.path + "/" + name))
            #expect(bytes.range(of: Data("SECRET".utf8)) == nil, "\(name) holds a webhook's secret")
        }
    }

    @Test(
        "recover killed by SIGKILL while an HTTP_CHECK or NOTIFY request is in flight, or a MANUAL_APPROVAL waits, then resume: SUCCEEDED, the killed step run again (a notification sent again: at least once), no finished step done twice",
        arguments: ["health", "tell", "sign-off"])
    func killDuringRemoteStep(during killed: String) throws {
        try backedUp()
        let marks = scratch.path + "/marks.log"
        #expect(
            try run([
                "plan", "create",
                try plan("""
                    name: crash
                    systemType: CRITICAL
                    steps:
                      - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
                      - {name: mark, type: RUN_COMMAND, command: ['/bin/sh', '-c', 'echo done >> \(marks)']}
                      - {name: health, type: HTTP_CHECK, url: "\(webhook.url)\(killed == "health" ? "/hold/health" : "/health")"}
                      - {name: tell, type: NOTIFY, webhook: \(killed == "tell" ? "held" : "ops"), message: "orders restored"}
                    \(killed == "sign-off" ? "  - {name: sign-off, type: MANUAL_APPROVAL}" : "")
                    """),
            ]).status == 0)
        let wait = try EventWait()
        try wait.watch(tree: scratch.path)
        let first = try Background(["recover", "crash"], environment: environment)
        let id = try first.executionID()
        wait.wake(onEndOf: first.process)
        if killed == "sign-off" {
            // The line follows the execution's WAITING_APPROVAL in the catalog.
            #expect(first.lines.waitFor("waiting for approval"), "\(first.lines.output)")
            #expect(try json(["recover", "status", id])["status"] as? String == "WAITING_APPROVAL")
        } else {
            // The receiver logged the request and holds its answer.
            let request = killed == "health" ? "GET /hold/health" : "POST /hold/services/"
            try wait.until("the held request") { webhook.received.contains { $0.hasPrefix(request) } || !first.process.isRunning }
        }
        try #require(first.process.isRunning, "recover ended before \(killed): \(first.lines.output)")
        kill(first.process.processIdentifier, SIGKILL)
        _ = first.end()
        try webhook.release()

        let interrupted = try json(["recover", "status", id])
        #expect(interrupted["status"] as? String == "INTERRUPTED", "\(interrupted)")
        let killedRow = (interrupted["steps"] as? [[String: Any]])?.first { $0["name"] as? String == killed }
        #expect(killedRow?["status"] as? String == (killed == "sign-off" ? "WAITING_APPROVAL" : "RUNNING"), "the kill landed during \(killed): \(killedRow ?? [:])")

        if killed == "sign-off" {
            // No approval was given: the resumed execution waits for it again.
            let resumed = try Background(["recover", "resume", id], environment: environment)
            #expect(resumed.lines.waitFor("waiting for approval: lifeboat recover approve \(id) sign-off"), "\(resumed.lines.output)")
            #expect(try run(["recover", "approve", id, "sign-off", "--user", "ann"]).status == 0)
            let end = resumed.end()
            #expect(end.status == 0, "\(end.output)")
        } else {
            let resumed = try run(["recover", "resume", id])
            #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        }
        let status = try json(["recover", "status", id])
        #expect(status["status"] as? String == "SUCCEEDED")
        let steps = try #require(status["steps"] as? [[String: Any]])
        let expected: [String: [Int]] = ["health": [1, 1, 2, 1], "tell": [1, 1, 1, 2], "sign-off": [1, 1, 1, 1, 2]]
        #expect(steps.map { $0["attempts"] as? Int ?? 0 } == expected[killed], "\(steps)")
        #expect(try String(contentsOfFile: marks, encoding: .utf8) == "done\n")
        let checks = webhook.received.filter { $0.hasPrefix("GET /hold/health") }
        #expect(checks.count == (killed == "health" ? 2 : 0), "\(webhook.received)")
        // The notification: sent again when its attempt was cut short, with the same
        // execution and step by which a receiver tells the repeat; once when it had finished.
        let notices = webhook.received.filter { $0.hasPrefix("POST ") }
        #expect(notices.count == (killed == "tell" ? 2 : 1), "\(notices)")
        #expect(notices.allSatisfy { $0.contains("\"execution\":\"\(id)\"") && $0.contains("\"step\":\"tell\"") }, "\(notices)")
    }

    /// The catalog's one execution and its steps, read from its SQLite file as an auditor
    /// would: times as seconds since 1970.
    func catalogExecution() throws -> [String: Any] {
        let script = """
            import datetime, json, sqlite3, sys
            def t(v):
                if v is None or isinstance(v, (int, float)):
                    return v
                d = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
                return (d if d.tzinfo else d.replace(tzinfo=datetime.timezone.utc)).timestamp()
            c = sqlite3.connect(sys.argv[1])
            (e,) = c.execute("SELECT incident_time, finished_at, rto_target_seconds, rto_achieved_seconds, rpo_target_seconds, rpo_achieved_seconds, restore_point FROM recovery_executions").fetchall()
            steps = [{"name": n, "critical": bool(k), "status": s, "finished": t(f), "restorePoint": t(r)} for (n, k, s, f, r) in c.execute("SELECT name, critical, status, finished_at, restore_point FROM recovery_step_runs ORDER BY position")]
            print(json.dumps({"incident": t(e[0]), "finished": t(e[1]), "rtoTarget": e[2], "rto": e[3], "rpoTarget": e[4], "rpo": e[5], "restorePoint": t(e[6]), "steps": steps}))
            """
        let out = try Shell.run("/usr/bin/python3", ["-c", script, scratch.path + "/catalog.sqlite"])
        try #require(out.status == 0, "\(out.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
    }

    @Test("a drill of every step type, approved from another shell, from plan create to the report: the report's RTO and RPO are the catalog's, measured from its steps and the snapshots restored")
    func everyStepTypeToReport() throws {
        try backedUp()
        let seen = scratch.path + "/smoke.out"
        #expect(
            try run([
                "plan", "create",
                try plan("""
                    name: orders
                    systemType: CRITICAL
                    rto: 1h
                    rpo: 1h
                    steps:
                      - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
                      - {name: restore-config, type: RESTORE_BACKUP, source: app-config, after: []}
                      - {name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "SELECT count(*) = 300 FROM orders", after: [restore-db]}
                      - {name: verify-config, type: VERIFY_SYSTEM, source: app-config, after: [restore-config]}
                      - {name: smoke, type: RUN_COMMAND, runInTest: true, after: [verify-db, verify-config], command: ["/bin/sh", "-c", "test -f \\"$LIFEBOAT_SANDBOX_APP_DB_PATH\\" && echo \\"$LIFEBOAT_MODE\\" > \(seen)"]}
                      - {name: health, type: HTTP_CHECK, url: "\(webhook.url)/health", runInTest: true}
                      - {name: tell, type: NOTIFY, webhook: ops, message: "orders restored"}
                      - {name: sign-off, type: MANUAL_APPROVAL}
                      - {name: settle, type: WAIT, duration: 1s, critical: false}
                    testing: {every: 90d}
                    """),
            ]).status == 0)
        let before = TestRepository.allObjects(at: production)
        let drill = try Background(["recover", "orders", "--test", "--user", "ann"], environment: environment)
        let id = try drill.executionID()
        #expect(drill.lines.waitFor("waiting for approval: lifeboat recover approve \(id) sign-off"), "\(drill.lines.output)")
        #expect(try run(["recover", "approve", id, "sign-off", "--user", "dana", "--comment", "restored copy checked"]).status == 0)
        let end = drill.end()
        #expect(end.status == 0, "\(end.output)")
        #expect(TestRepository.allObjects(at: production) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: drills).isEmpty)
        #expect(try String(contentsOfFile: seen, encoding: .utf8) == "TEST\n")
        #expect(webhook.received.contains { $0.contains("[DRILL] orders restored") })

        // The catalog against the steps it records and the snapshots restored.
        let row = try catalogExecution()
        let steps = try #require(row["steps"] as? [[String: Any]])
        #expect(steps.map { $0["status"] as? String } == Array(repeating: "SUCCEEDED", count: 9), "\(steps)")
        let incident = try #require(row["incident"] as? Double)
        let finished = try #require(row["finished"] as? Double)
        let lastCritical = try #require(steps.filter { $0["critical"] as? Bool == true }.compactMap { $0["finished"] as? Double }.max())
        let rto = try #require(row["rto"] as? Double)
        #expect(abs(rto - (lastCritical - incident)) < 0.002, "RTO ends with the last critical step: \(row)")
        #expect(rto < finished - incident - 0.5, "the non-critical wait after it does not count: \(row)")
        let snapshots = try #require(try LifeboatCLI.json(try run(["snapshots", "--json"])) as? [[String: Any]])
        let times = snapshots.compactMap { ($0["time"] as? String).flatMap(ISO8601.parse)?.timeIntervalSince1970 }
        #expect(times.count == 2, "\(snapshots)")
        let restorePoint = try #require(row["restorePoint"] as? Double)
        #expect(abs(restorePoint - (times.min() ?? 0)) < 0.002, "the restore point is the oldest snapshot restored: \(row)")
        let rpo = try #require(row["rpo"] as? Double)
        #expect(abs(rpo - (incident - restorePoint)) < 0.002)
        #expect(row["rtoTarget"] as? Double == 3600 && row["rpoTarget"] as? Double == 3600)

        // The report says what the catalog holds.
        let report = try #require(try LifeboatCLI.json(try run(["report", "--format", "json"])) as? [String: Any])
        let p = try #require((report["plans"] as? [[String: Any]])?.first)
        #expect(p["rtoTargetSeconds"] as? Int == 3600 && p["rpoTargetSeconds"] as? Int == 3600)
        let e = try #require((p["executions"] as? [[String: Any]])?.first)
        #expect(e["id"] as? String == id && e["mode"] as? String == "TEST" && e["status"] as? String == "SUCCEEDED" && e["user"] as? String == "ann", "\(e)")
        #expect((e["rtoAchievedSeconds"] as? Double).map { abs($0 - rto) < 1e-6 } == true && e["rtoMet"] as? Bool == true, "\(e)")
        #expect((e["rpoAchievedSeconds"] as? Double).map { abs($0 - rpo) < 1e-6 } == true && e["rpoMet"] as? Bool == true, "\(e)")
        let lastDrill = try #require((p["lastDrill"] as? String).flatMap(ISO8601.parse)?.timeIntervalSince1970)
        #expect(abs(lastDrill - finished) < 0.002)
        let due = try #require((p["nextDrillDue"] as? String).flatMap(ISO8601.parse)?.timeIntervalSince1970)
        #expect(abs(due - (finished + 90 * 86_400)) < 0.002 && p["isOverdue"] as? Bool == false)
        #expect(rto < 120 && rpo < 120, "shown in seconds")
        let markdown = try run(["report"]).stdout
        #expect(markdown.contains("| \(id.prefix(8)) | TEST | SUCCEEDED | ann |"), "\(markdown)")
        #expect(markdown.contains("| \(RecoverCLITests.seconds(rto)) | met | \(RecoverCLITests.seconds(rpo)) | met |"), "\(markdown)")

        // The drill restored each source from primary and checked it: evidence for primary.
        let evidence = try #require(p["restoreTests"] as? [[String: Any]])
        #expect(
            evidence.map { "\($0["source"] ?? "") \($0["location"] ?? "") \($0["result"] ?? "") \($0["execution"] ?? "")" } == [
                "app-config primary PASSED \(id)", "app-db primary PASSED \(id)",
            ], "\(evidence)")
        let shortIDs = Set(snapshots.compactMap { $0["shortId"] as? String })
        #expect(evidence.allSatisfy { ($0["snapshotId"] as? String).map(shortIDs.contains) == true }, "\(evidence) \(shortIDs)")
        #expect(markdown.contains("| drill \(id.prefix(8)): step restore-db restored it, step verify-db checked it |"), "\(markdown)")
    }

    /// As the report writes a duration.
    static func seconds(_ s: Double) -> String { String(format: "%.1fs", s) }
}
