import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

/// Plans with a PostgreSQL source against a real cluster archiving into the repository:
/// a drill restores to a point in time in a scratch cluster, checks it and removes it;
/// EXECUTE swaps a restored data directory in only while production's server is stopped.
/// Backups and archiving run as the cluster's OS user, as in production; plans and
/// executions run as that user too, and (when the tests run as root, as CI does) as root,
/// as a recovery does in production.
@Suite("plan and recover with PostgreSQL", .serialized, .enabled(if: ScratchPostgres.isAvailable, "no PostgreSQL server programs"), .timeLimit(.minutes(10)))
struct RecoverPostgreSQLCLITests {
    let scratch = ScratchDirectory("recover-pg")
    let cli: LifeboatCLI
    let cluster: ScratchPostgres
    let config: String
    let drills: String

    init() throws {
        var cli = try LifeboatCLI(scratch: scratch)
        cli.osUser = ScratchPostgres.osUserForClusters
        cli.binary = try ScratchPostgres.lifeboatExecutable(for: cli.osUser)
        drills = try scratch.sub("tmp")
        config = scratch.path + "/lifeboat.yaml"
        try ScratchPostgres.handOver(scratch.path)
        self.cli = cli
        try cli.initialize()
        let push = "\(cli.binary!) wal push %p --repo \(cli.repository) --password-file \(cli.passwordFile)"
        cluster = try ScratchPostgres(settings: ["archive_mode = on", "archive_command = '\(push)'"])
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(cli.repository) }
            sources:
              - { name: db, kind: postgres, url: "\(cluster.url)", pgdata: \(cluster.dataDirectory) }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        try ScratchPostgres.handOver(config)
    }

    var environment: [String: String] { cli.environment(config: config).merging(["TMPDIR": drills]) { _, new in new } }

    func run(_ arguments: [String], asRoot: Bool = false) throws -> Shell.Output {
        var runner = cli
        if asRoot { runner.osUser = nil }
        return try runner.run(arguments, environment: environment)
    }

    /// The runs as root, when the tests run as root.
    static let runners = geteuid() == 0 ? [false, true] : [false]

    func json(_ arguments: [String], asRoot: Bool = false) throws -> [String: Any] {
        let out = try run(arguments + ["--json"], asRoot: asRoot)
        #expect(out.status == 0, "\(arguments): \(out.stderr)")
        return try #require(try LifeboatCLI.json(out) as? [String: Any])
    }

    /// 300 orders backed up, a point in time after them, 200 more orders after it, and the
    /// WAL holding them archived (a TRANSACTION_LOG run waits for that). Returns the time.
    func ordersWithPointInTime() throws -> String {
        try cluster.sql("CREATE TABLE orders (id serial PRIMARY KEY, item text); INSERT INTO orders (item) SELECT 'item ' || i FROM generate_series(1, 300) i")
        // A spread checkpoint (run's default) has nothing left to write: the backup starts at once.
        try cluster.sql("CHECKPOINT")
        let base = try run(["run", "db"])
        try #require(base.status == 0, "\(base.stderr)\n\(cluster.log.suffix(2000))")
        // Truncated to the millisecond, never rounded up: every later commit comes after it.
        let time = try cluster.sql("SELECT to_char(date_trunc('milliseconds', clock_timestamp()) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
        try cluster.sql("INSERT INTO orders (item) SELECT 'late ' || i FROM generate_series(1, 200) i")
        let log = try run(["run", "db", "--type", "transaction-log"])
        try #require(log.status == 0, "\(log.stderr)")
        return time
    }

    func plan(_ text: String, asRoot: Bool = false) throws -> String {
        let file = scratch.path + "/plan-\(UUID().uuidString.prefix(8)).yaml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        try ScratchPostgres.handOver(file)
        let created = try run(["plan", "create", file], asRoot: asRoot)
        #expect(created.status == 0, "\(created.stderr)")
        return file
    }

    @Test(
        "a drill restores to a point in time in a scratch cluster, the query passes there, production is untouched, and no sandbox or cluster is left; RPO is measured from the target",
        arguments: runners)
    func drill(asRoot: Bool) throws {
        let time = try ordersWithPointInTime()
        let out = scratch.path + "/psql.out"
        let psql = cluster.binDirectory + "/psql"
        _ = try plan("""
            name: orders-pg
            systemType: CRITICAL
            rpo: 1h
            steps:
              - {name: restore-db, type: RESTORE_BACKUP, source: db, snapshot: latest, toTime: "\(time)"}
              - {name: verify-db, type: VERIFY_SYSTEM, source: db, query: "SELECT count(*) = 300 FROM orders"}
              - name: count
                type: RUN_COMMAND
                runInTest: true
                command: ["/bin/sh", "-c", "test -f \\"$LIFEBOAT_SANDBOX_DB_PATH/PG_VERSION\\" && \(psql) -X -A -t -h \\"$LIFEBOAT_SANDBOX_DB_HOST\\" -p \\"$LIFEBOAT_SANDBOX_DB_PORT\\" -U \(cluster.superuser) -d postgres -c 'SELECT count(*) FROM orders' > \(out) && stat -c %U \\"$LIFEBOAT_SANDBOX_DB_PATH\\" > \(out).owner"]
              - {name: wipe, type: RUN_COMMAND, command: ["/bin/rm", "-rf", "\(cluster.dataDirectory)"]}
            """, asRoot: asRoot)
        let result = try run(["recover", "orders-pg", "--test"], asRoot: asRoot)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let id = try #require(result.stdout.firstMatch(of: /execution ([0-9a-f-]{36})/).map { String($0.1) })
        let status = try json(["recover", "status", id], asRoot: asRoot)
        #expect(status["status"] as? String == "SUCCEEDED", "\(status)")
        let steps = try #require(status["steps"] as? [[String: Any]])
        #expect(steps.map { $0["status"] as? String } == ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "SKIPPED"], "\(steps)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "300")
        // The scratch cluster's data directory is the snapshot's owner's, whoever ran the drill.
        let owner = try String(contentsOfFile: out + ".owner", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(owner == (ScratchPostgres.osUserForClusters ?? NSUserName()), "\(owner)")
        // The restore point is the point-in-time target, not the base backup's time.
        let rpo = try #require(status["rpo"] as? [String: Any])
        let restorePoint = try #require((rpo["restorePoint"] as? String).flatMap(ISO8601.parse))
        // JSON times have milliseconds, truncated: a time a hair below a whole millisecond (binary
        // floating point) is written a millisecond early.
        #expect(abs(restorePoint.timeIntervalSince(try #require(ISO8601.parse(time)))) < 0.002, "\(rpo)")
        #expect(rpo["met"] as? Bool == true)

        // Production: still running, still with every order; the sandbox and its cluster are gone.
        #expect(try cluster.sql("SELECT count(*) FROM orders") == "500")
        #expect(try FileManager.default.contentsOfDirectory(atPath: drills).isEmpty)
        let restoreLog = try #require(steps.first?["log"] as? String)
        let port = try #require(restoreLog.firstMatch(of: /127\.0\.0\.1:(\d+)/).map { String($0.1) }, "\(restoreLog)")
        #expect(throws: (any Error).self, "the drill's cluster still answers on \(port)") { try cluster.sql("SELECT 1", port: Int(port)) }
    }

    @Test("a drill killed (SIGKILL) while its scratch cluster runs leaves the cluster running; resumed, it ends SUCCEEDED and the orphan is stopped with the sandbox")
    func orphanAtResume() throws {
        _ = try ordersWithPointInTime()
        _ = try plan("""
            name: orders-pg
            systemType: CRITICAL
            steps:
              - {name: restore-db, type: RESTORE_BACKUP, source: db}
              - {name: settle, type: WAIT, duration: 2s}
              - {name: verify-db, type: VERIFY_SYSTEM, source: db, query: "SELECT count(*) = 500 FROM orders"}
            """)
        let process = Process()
        let stdout = Pipe()
        let program = cli.binary ?? LifeboatCLI.executable
        process.executableURL = URL(fileURLWithPath: cli.osUser == nil ? program : "/usr/sbin/runuser")
        process.arguments = (cli.osUser.map { ["-u", $0, "--", program] } ?? []) + ["recover", "orders-pg", "--test"]
        process.environment = environment
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        let lines = LineReader(stdout.fileHandleForReading)
        #expect(lines.waitFor("step settle (WAIT): started"), "\(lines.output)")
        let id = try #require(lines.output.firstMatch(of: /execution ([0-9a-f-]{36})/).map { String($0.1) })
        let port = try #require(lines.output.firstMatch(of: /127\.0\.0\.1:(\d+)/).map { Int(String($0.1)) ?? 0 }, "\(lines.output)")
        // Through runuser, the executor is runuser's child: that is the process killed.
        let runner = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(runner)/task/\(runner)/children", encoding: .utf8)) ?? ""
        let executor = cli.osUser == nil ? runner : try #require(children.split(separator: " ").first.flatMap { Int32($0) }, "runuser's child")
        kill(executor, SIGKILL)
        _ = lines.readToEnd()
        process.waitUntilExit()
        #expect(try cluster.sql("SELECT count(*) FROM orders", port: port) == "500", "the killed drill's cluster runs on")

        let resumed = try run(["recover", "resume", id])
        #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
        #expect(try json(["recover", "status", id])["status"] as? String == "SUCCEEDED")
        #expect(try FileManager.default.contentsOfDirectory(atPath: drills).isEmpty)
        #expect(throws: (any Error).self, "the orphan cluster still answers on \(port)") { try cluster.sql("SELECT 1", port: port) }
    }

    @Test(
        "EXECUTE refuses while production's server runs; stopped, it swaps in the restored data directory (the cluster's user's, run by root too), keeps the old one as .before-<id>, and the check passes once started",
        arguments: runners)
    func execute(asRoot: Bool) throws {
        let time = try ordersWithPointInTime()
        let pgdata = cluster.dataDirectory
        let pgctl = cluster.binDirectory + "/pg_ctl"
        // pg_ctl refuses root: root starts the server as the cluster's user, as a service would.
        let start = asRoot ? "\"/usr/sbin/runuser\", \"-u\", \"\(ScratchPostgres.osUserForClusters ?? "postgres")\", \"--\", " : ""
        _ = try plan("""
            name: orders-pg
            systemType: CRITICAL
            steps:
              - {name: restore-db, type: RESTORE_BACKUP, source: db, toTime: "\(time)"}
              - {name: start, type: RUN_COMMAND, command: [\(start)"\(pgctl)", "-D", "\(pgdata)", "-l", "\(cluster.folder)/restored.log", "-w", "start"]}
              - {name: verify-db, type: VERIFY_SYSTEM, source: db, query: "SELECT count(*) = 300 FROM orders"}
            """, asRoot: asRoot)
        let refused = try run(["recover", "orders-pg"], asRoot: asRoot)
        #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
        #expect((refused.stdout + refused.stderr).contains("a PostgreSQL server is running on \(pgdata): stop it"), "\(refused.stdout) \(refused.stderr)")
        #expect(try cluster.sql("SELECT count(*) FROM orders") == "500")

        cluster.stop(dataDirectory: pgdata, mode: "fast")
        let result = try run(["recover", "orders-pg"], asRoot: asRoot)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let id = try #require(result.stdout.firstMatch(of: /execution ([0-9a-f-]{36})/).map { String($0.1) })
        #expect(try cluster.sql("SELECT count(*) FROM orders") == "300")
        #expect(try cluster.sql("SELECT pg_is_in_recovery()") == "f")
        let kept = pgdata + ".before-" + id
        #expect(FileManager.default.fileExists(atPath: kept + "/PG_VERSION"), "what was at the target is kept")
        let owner = try FileManager.default.attributesOfItem(atPath: pgdata)[.ownerAccountName] as? String
        #expect(owner == (ScratchPostgres.osUserForClusters ?? NSUserName()), "the restored data directory is the cluster's user's")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cluster.folder).filter { $0.contains("lifeboat-staging") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
