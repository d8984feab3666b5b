import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

/// Against real PostgreSQL clusters started for each test (scripts/test installs the
/// server when missing). Serialized: each test runs a cluster or two and pgbench.
@Suite("lifeboat with PostgreSQL", .serialized, .enabled(if: ScratchPostgres.isAvailable, "no PostgreSQL server programs"))
struct PostgreSQLCLITests {
    /// A repository and a cluster archiving into it with `lifeboat wal push`, all owned by
    /// the cluster's OS user, as in production.
    struct Setup {
        let scratch: ScratchDirectory
        let cli: LifeboatCLI
        let cluster: ScratchPostgres

        init(archiving: Bool = true, walOutside: Bool = false) throws {
            scratch = ScratchDirectory("pg")
            var cli = try LifeboatCLI(scratch: scratch)
            cli.osUser = ScratchPostgres.osUserForClusters
            cli.binary = try ScratchPostgres.lifeboatExecutable(for: cli.osUser)
            try ScratchPostgres.handOver(scratch.path)
            try cli.initialize()
            self.cli = cli
            let push = "\(cli.binary!) wal push %p --repo \(cli.repository) --password-file \(cli.passwordFile)"
            cluster = try ScratchPostgres(settings: archiving ? ["archive_mode = on", "archive_command = '\(push)'"] : [], walOutside: walOutside)
        }

        /// A checksum of pgbench's accounts and history: equal data, equal checksum.
        func checksum(port: Int? = nil) throws -> String {
            try cluster.sql(
                "SELECT md5(coalesce((SELECT string_agg(aid || ':' || abalance, ',' ORDER BY aid) FROM pgbench_accounts), '') || (SELECT count(*) FROM pgbench_history))",
                port: port)
        }

        func restore(_ arguments: [String], snapshot: String = "latest") throws -> (Shell.Output, port: Int, pgdata: String) {
            let port = try ScratchPostgres.freePort()
            let pgdata = scratch.path + "/restored-\(port)"
            let out = try cli.run(["restore-db", snapshot, "--pgdata", pgdata, "--start", "--port", "\(port)", "--no-archiving", "--json"] + arguments)
            return (out, port, pgdata)
        }
    }

    @Test("FULL and INCREMENTAL base backups, TRANSACTION_LOG, and point-in-time restores to a time, an LSN and a restore point", .timeLimit(.minutes(10)))
    func pointInTimeRecovery() throws {
        let s = try Setup()
        try s.cluster.pgbench(["-i", "-s", "2", "-q"])
        let full = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast", "--amcheck-index", "pgbench_accounts_pkey", "--read-back", "--json"])
        try #require(full.status == 0, "\(full.stderr)\n\(s.cluster.log.suffix(2000))")
        let fullJSON = try #require(try LifeboatCLI.json(full) as? [String: Any])
        #expect(fullJSON["type"] as? String == "FULL")
        #expect(fullJSON["sourceKind"] as? String == "postgres")
        let facts = try #require(fullJSON["postgres"] as? [String: Any])
        #expect((facts["backupLabel"] as? String)?.contains("START WAL LOCATION") == true)
        #expect(facts["systemIdentifier"] as? String == (try s.cluster.sql("SELECT system_identifier FROM pg_control_system()")))
        let listed = try #require(try LifeboatCLI.json(try s.cli.run(["snapshots", "--json"])) as? [[String: Any]])
        let pre = ((listed.first?["checks"] as? [String: Any])?["pre"] as? [String: Any])?["details"] as? String
        #expect(pre?.contains("amcheck passed on pgbench_accounts_pkey") == true, "\(listed.first ?? [:])")
        let post = ((listed.first?["checks"] as? [String: Any])?["post"] as? [String: Any])?["details"] as? String
        #expect(post?.contains("every SHA-256 and blob authenticated") == true && post?.contains("archived in this repository") == true, "\(post ?? "")")
        let badIndex = try s.cli.run(["backup", "--postgres", s.cluster.url, "--amcheck-index", "no_such_index"])
        #expect(badIndex.status == 1)
        #expect(badIndex.stderr.contains("amcheck on index no_such_index"), "\(badIndex.stderr)")

        // Writes while WAL is archived, then the state to come back to: checksum, time, LSN, restore point.
        try s.cluster.pgbench(["-c", "2", "-T", "3"])
        let incremental = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast", "--json"])
        try #require(incremental.status == 0, "\(incremental.stderr)")
        let incJSON = try #require(try LifeboatCLI.json(incremental) as? [String: Any])
        #expect(incJSON["type"] as? String == "INCREMENTAL")
        #expect((incJSON["filesUnmodified"] as? Int ?? 0) > 0)
        #expect((incJSON["bytesRead"] as? Int ?? .max) < (fullJSON["bytesRead"] as? Int ?? 0))

        try s.cluster.pgbench(["-c", "2", "-T", "2"])
        let expected = try s.checksum()
        let lsn = try s.cluster.sql("SELECT pg_current_wal_lsn()")
        try s.cluster.sql("SELECT pg_create_restore_point('before-more-writes')")
        // Truncated to the millisecond, never rounded up: every later commit comes after it.
        let time = try s.cluster.sql("SELECT to_char(date_trunc('milliseconds', clock_timestamp()) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
        try s.cluster.pgbench(["-c", "2", "-T", "2"])
        let later = try s.checksum()
        #expect(later != expected)

        let log = try s.cli.run(["backup", "--postgres", s.cluster.url, "--type", "transaction-log", "--json"])
        try #require(log.status == 0, "\(log.stderr)")
        let logJSON = try #require(try LifeboatCLI.json(log) as? [String: Any])
        #expect(logJSON["type"] as? String == "TRANSACTION_LOG")
        // The next base backup's parent is the INCREMENTAL one: a TRANSACTION_LOG snapshot holds no files.
        let next = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast", "--json"])
        try #require(next.status == 0, "\(next.stderr)")
        let nextJSON = try #require(try LifeboatCLI.json(next) as? [String: Any])
        #expect(nextJSON["parent"] as? String == incJSON["snapshotId"] as? String)
        #expect((nextJSON["filesUnmodified"] as? Int ?? 0) > 0)
        let snapshots = try #require(try LifeboatCLI.json(try s.cli.run(["snapshots", "--json"])) as? [[String: Any]])
        #expect(snapshots.map { $0["type"] as? String } == ["FULL", "INCREMENTAL", "TRANSACTION_LOG", "INCREMENTAL"])
        #expect(snapshots.allSatisfy { $0["sourceKind"] as? String == "postgres" })

        // `latest` with a time or an LSN picks the newest base backup that ends before it
        // (the INCREMENTAL one, not the base backup taken after the target); a restore
        // point's position is not known before recovery, so its base backup is named.
        let incrementalID = try #require(incJSON["snapshotId"] as? String)
        for (target, snapshot) in [(["--to-time", time], "latest"), (["--to-lsn", lsn], "latest"), (["--to-name", "before-more-writes"], incrementalID)] {
            let (out, port, pgdata) = try s.restore(target, snapshot: snapshot)
            defer { s.cluster.stop(dataDirectory: pgdata) }
            try #require(out.status == 0, "\(target): \(out.stderr)")
            if target.first == "--to-time" {
                // The time as given, to the digit: 46.159 stays 46.159, not 46.158999.
                let exact = time.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "000+00")
                let conf = try String(contentsOfFile: pgdata + "/postgresql.auto.conf", encoding: .utf8)
                #expect(conf.contains("recovery_target_time = '\(exact)'"), "\(conf)")
            }
            #expect(try s.checksum(port: port) == expected, "\(target)")
            #expect(try s.cluster.sql("SELECT pg_is_in_recovery()", port: port) == "f")
        }
        // The end of the archive (what the TRANSACTION_LOG backup proved archived) has everything.
        let (out, port, pgdata) = try s.restore([])
        defer { s.cluster.stop(dataDirectory: pgdata) }
        try #require(out.status == 0, "\(out.stderr)")
        #expect(try s.checksum(port: port) == later)

        let test = try s.cli.run(["restore-test", "latest", "--json"])
        #expect(test.status == 0, "\(test.stderr)")
        let report = try #require(try LifeboatCLI.json(test) as? [String: Any])
        #expect(report["passed"] as? Bool == true)
        #expect((report["tableRows"] as? [String: Int])?["postgres.public.pgbench_accounts"] == 200_000)

        // Retention: with only the newest base backup kept, prune drops the WAL before it,
        // and what is left still restores and checks.
        #expect(try s.cli.run(["forget", "--keep-last", "1"]).status == 0)
        let walBefore = try #require(try LifeboatCLI.json(try s.cli.run(["wal", "list", "--json"])) as? [[String: Any]]).count
        let prune = try s.cli.run(["prune", "--json"])
        #expect(prune.status == 0, "\(prune.stderr)")
        let pruned = try #require(try LifeboatCLI.json(prune) as? [String: Any])
        #expect((pruned["walFilesDeleted"] as? Int ?? 0) > 0)
        let walAfter = try #require(try LifeboatCLI.json(try s.cli.run(["wal", "list", "--json"])) as? [[String: Any]]).count
        #expect(walAfter == walBefore - (pruned["walFilesDeleted"] as? Int ?? 0))
        let check = try s.cli.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let (again, againPort, againData) = try s.restore([])
        defer { s.cluster.stop(dataDirectory: againData) }
        try #require(again.status == 0, "\(again.stderr)")
        #expect(try s.checksum(port: againPort) == later)
    }

    @Test("recovery targets before the base backup's end or beyond the archive are refused before anything is written")
    func badTargets() throws {
        let s = try Setup()
        try s.cluster.sql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS x")
        let before = try s.cluster.sql("SELECT pg_current_wal_lsn()")
        let full = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast"])
        try #require(full.status == 0, "\(full.stderr)")
        let target = s.scratch.path + "/never"
        for (arguments, message) in [
            (["--to-lsn", before], "before the end of the chosen base backup"),
            (["--to-lsn", "FF/0"], "beyond the archived WAL"),
            (["--to-time", "2099-01-01T00:00:00Z"], "beyond the archived WAL"),
        ] {
            let first = try #require(try Self.firstSnapshot(s))
            let out = try s.cli.run(["restore-db", first, "--pgdata", target] + arguments)
            #expect(out.status == 1, "\(arguments)")
            #expect(out.stderr.contains(message), "\(arguments): \(out.stderr)")
            #expect(!FileManager.default.fileExists(atPath: target))
        }
        let both = try s.cli.run(["restore-db", "latest", "--pgdata", target, "--to-lsn", "0/1", "--immediate"])
        #expect(both.status == 64)
    }

    // Only root restores for another user: CI runs as root; anyone else sees it skipped.
    @Test("a cluster restored by root still belongs to, and runs as, the user it was backed up from", .enabled(if: geteuid() == 0, "only root restores files for another user"))
    func restoredByRoot() throws {
        let s = try Setup()
        try s.cluster.sql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS x")
        let full = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast"])
        try #require(full.status == 0, "\(full.stderr)")
        var asRoot = s.cli
        asRoot.osUser = nil
        let port = try ScratchPostgres.freePort()
        let pgdata = s.scratch.path + "/as-root"
        let out = try asRoot.run(["restore-db", "latest", "--pgdata", pgdata, "--immediate", "--start", "--port", "\(port)", "--no-archiving"])
        defer { s.cluster.stop(dataDirectory: pgdata) }
        #expect(out.status == 0, "\(out.stderr)")
        #expect(try s.cluster.sql("SELECT count(*) FROM t", port: port) == "1000")
        let owner = try FileManager.default.attributesOfItem(atPath: pgdata)[.ownerAccountName] as? String
        #expect(owner == "postgres")
    }

    @Test("the pre-backup check stops a backup when archiving is off or failing, and a base backup whose WAL went elsewhere gets no snapshot")
    func preChecks() throws {
        let off = try Setup(archiving: false)
        let refused = try off.cli.run(["backup", "--postgres", off.cluster.url, "--checkpoint", "fast"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("archive_mode is off"), "\(refused.stderr)")
        #expect(try off.cli.run(["snapshots", "--json"]).stdout.contains("[]") || (try LifeboatCLI.json(try off.cli.run(["snapshots", "--json"])) as? [Any])?.isEmpty == true)

        let s = try Setup()
        // Archive into another repository: the backup must notice its WAL is not in this one.
        let other = s.scratch.path + "/other-repo"
        let initialized = try s.cli.run(["init", "--repo", other, "--kdf-n", "1024"])
        try #require(initialized.status == 0, "\(initialized.stderr)")
        try s.cluster.sql("ALTER SYSTEM SET archive_command = '\(s.cli.binary!) wal push %p --repo \(other) --password-file \(s.cli.passwordFile)'")
        try s.cluster.sql("SELECT pg_reload_conf()")
        let elsewhere = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast", "--archive-timeout", "3"])
        #expect(elsewhere.status == 1)
        #expect(elsewhere.stderr.contains("is not archived in"), "\(elsewhere.stderr)")
        #expect((try LifeboatCLI.json(try s.cli.run(["snapshots", "--json"])) as? [Any])?.isEmpty == true)

        // A failing archive_command shows in pg_stat_archiver, and the check reads it there.
        // Each attempt leaves a file before it fails: the test looks at the count after each.
        let attempts = try s.scratch.sub("attempts")
        try ScratchPostgres.handOver(attempts)
        let wait = try EventWait()
        try wait.watch(tree: attempts)
        try s.cluster.sql("ALTER SYSTEM SET archive_command = 'touch \(attempts)/%f.$$; false'")
        try s.cluster.sql("SELECT pg_reload_conf()")
        try s.cluster.sql("CREATE TABLE filler AS SELECT generate_series(1, 1000) AS x")
        try s.cluster.sql("SELECT pg_switch_wal()")
        try wait.until("pg_stat_archiver to count a failed archive attempt") { try s.cluster.sql("SELECT failed_count FROM pg_stat_archiver") != "0" }
        let failing = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast", "--archive-timeout", "5"])
        #expect(failing.status == 1)
        #expect(failing.stderr.contains("the last WAL archive attempt failed"), "\(failing.stderr)")
    }

    @Test("archive_command rejects a different segment under an archived name; restore_command exits 1 for a missing one")
    func archiveCommands() throws {
        let s = try Setup()
        try s.cluster.sql("CREATE TABLE t AS SELECT generate_series(1, 10) AS x")
        let segment = try s.cluster.sql("SELECT pg_walfile_name(pg_switch_wal())")
        let wait = try EventWait()
        try wait.watch(tree: s.cli.repository)
        try wait.until("segment \(segment) to be archived") { try s.cli.run(["wal", "list", "--json"]).stdout.contains(segment) }
        let fake = s.scratch.path + "/" + segment
        try Data(repeating: 7, count: 16 << 20).write(to: URL(fileURLWithPath: fake))
        try FileTree.chmod(fake, 0o644)
        let push = try s.cli.run(["wal", "push", fake])
        #expect(push.status == 1)
        #expect(push.stderr.contains("already archives a different"))
        let missing = try s.cli.run(["wal", "fetch", "0000000100000000000000FF", s.scratch.path + "/out"])
        #expect(missing.status == 1)
        let fetched = try s.cli.run(["wal", "fetch", segment, s.scratch.path + "/out"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(FileManager.default.contents(atPath: s.scratch.path + "/out")?.count == 16 << 20)
    }

    @Test("lifeboat run backs up a configured cluster through the pipeline and records it: FULL, TRANSACTION_LOG, restore-test by source; archiving off fails the pre-check")
    func pipeline() throws {
        func configure(_ s: Setup) throws -> [String: String] {
            let config = s.scratch.path + "/lifeboat.yaml"
            try """
                locations:
                  - { name: primary, role: PRIMARY, path: \(s.cli.repository) }
                sources:
                  - { name: main, kind: postgres, url: "\(s.cluster.url)", amcheckIndexes: [pgbench_accounts_pkey] }
                """.write(toFile: config, atomically: true, encoding: .utf8)
            try ScratchPostgres.handOver(config)
            return s.cli.environment(config: config)
        }
        let s = try Setup()
        let env = try configure(s)
        try s.cluster.pgbench(["-i", "-s", "1", "-q"])
        let full = try s.cli.run(["run", "main", "--type", "full", "--json"], environment: env)
        try #require(full.status == 0, "\(full.stderr)\n\(s.cluster.log.suffix(2000))")
        let fullRow = try #require(try LifeboatCLI.json(full) as? [String: Any])
        #expect(fullRow["type"] as? String == "FULL" && fullRow["status"] as? String == "SUCCEEDED" && fullRow["sourceKind"] as? String == "postgres")
        #expect(((fullRow["preCheck"] as? [String: Any])?["details"] as? String)?.contains("amcheck passed on pgbench_accounts_pkey") == true, "\(fullRow)")
        #expect(((fullRow["postCheck"] as? [String: Any])?["details"] as? String)?.contains("archived in this repository") == true, "\(fullRow)")

        try s.cluster.pgbench(["-c", "2", "-T", "2"])
        let log = try s.cli.run(["run", "main", "--type", "transaction-log", "--json"], environment: env)
        try #require(log.status == 0, "\(log.stderr)")
        #expect((try LifeboatCLI.json(log) as? [String: Any])?["type"] as? String == "TRANSACTION_LOG")

        let test = try s.cli.run(["restore-test", "main", "--query", "SELECT count(*) FROM pgbench_history", "--json"], environment: env)
        #expect(test.status == 0, "\(test.stdout) \(test.stderr)")
        let report = try #require(try LifeboatCLI.json(test) as? [String: Any])
        #expect(report["passed"] as? Bool == true && report["type"] as? String == "TRANSACTION_LOG" && report["recordedRows"] as? Int == 1)
        #expect(report["checkQueryResult"] as? String == (try s.cluster.sql("SELECT count(*) FROM pgbench_history")))
        // The answer is in the text output too, not only in --json.
        let text = try s.cli.run(["restore-test", "main", "--query", "SELECT count(*) FROM pgbench_history"], environment: env)
        #expect(text.status == 0, "\(text.stdout) \(text.stderr)")
        #expect(text.stdout.contains("query: SELECT count(*) FROM pgbench_history -> \(try s.cluster.sql("SELECT count(*) FROM pgbench_history"))"), "\(text.stdout)")
        let rows = try #require(try LifeboatCLI.json(try s.cli.run(["log", "--json"], environment: env)) as? [[String: Any]])
        #expect(rows.map { $0["type"] as? String } == ["TRANSACTION_LOG", "FULL"])
        #expect((rows.first?["restoreTest"] as? [String: Any])?["result"] as? String == "PASSED")

        let off = try Setup(archiving: false)
        let offEnv = try configure(off)
        try off.cluster.pgbench(["-i", "-s", "1", "-q"])
        let refused = try off.cli.run(["run", "main"], environment: offEnv)
        #expect(refused.status == 1 && refused.stderr.contains("archive_mode"), "\(refused.stderr)")
        let offRows = try #require(try LifeboatCLI.json(try off.cli.run(["log", "--json"], environment: offEnv)) as? [[String: Any]])
        #expect(offRows.first?["status"] as? String == "FAILED_PRECHECK")
        #expect(try Self.firstSnapshot(off) == nil)
    }

    static func firstSnapshot(_ s: Setup) throws -> String? {
        (try LifeboatCLI.json(try s.cli.run(["snapshots", "--json"])) as? [[String: Any]])?.first?["id"] as? String
    }
}
