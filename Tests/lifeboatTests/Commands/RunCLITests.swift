import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `lifeboat run`, `log`, `catalog rebuild` and `restore-test` against a lifeboat.yaml,
/// as an operator (or cron) runs them.
@Suite("run, log and the catalog")
struct RunCLITests {
    let scratch = ScratchDirectory("run")
    let cli: LifeboatCLI
    let config: String
    let app: String

    init() throws {
        cli = try LifeboatCLI(scratch: scratch)
        app = try scratch.sub("app")
        _ = try scratch.sub("app/config")
        _ = try scratch.sub("media")
        try FileTree.write(app + "/config/app.yaml", Array("listen: 127.0.0.1:8080\n".utf8))
        let db = app + "/app.db"
        let made = try Shell.run("/usr/bin/python3", [
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)'); c.executemany('INSERT INTO orders (item) VALUES (?)', [('item %d' % i,) for i in range(500)]); c.commit()",
            db,
        ])
        precondition(made.status == 0, made.stderr)
        config = scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
              - { name: usb, role: TERTIARY, path: \(scratch.path)/media/usb-1, medium: usb-1 }
            sources:
              - { name: app-db, kind: sqlite, path: \(db) }
              - { name: app-config, kind: files, paths: [\(app)/config] }
            """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    var environment: [String: String] { cli.environment(config: config) }

    func run(_ arguments: [String], _ extra: [String: String] = [:]) throws -> Shell.Output {
        try cli.run(arguments, environment: environment.merging(extra) { _, new in new })
    }

    func log(_ arguments: [String] = []) throws -> [[String: Any]] {
        let out = try run(["log", "--json"] + arguments)
        #expect(out.status == 0, "\(out.stderr)")
        return try #require(try LifeboatCLI.json(out) as? [[String: Any]])
    }

    func copies(_ row: [String: Any]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: ((row["locations"] as? [[String: Any]]) ?? []).map { ($0["location"] as! String, $0["status"] as! String) })
    }

    @Test("run records each backup; log shows, filters and prints them as JSON")
    func runAndLog() throws {
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        let full = try run(["run", "app-db", "--type", "full", "--schedule-type", "SCHEDULED"])
        #expect(full.status == 0, "\(full.stderr)")
        #expect(full.stdout.contains("SUCCEEDED") && full.stdout.contains("FULL") && full.stdout.contains("usb TERTIARY: VERIFIED"), "\(full.stdout)")
        let conf = try run(["run", "app-config", "--type", "configuration", "--restore-test", "--restore-test-from", "usb", "--json"])
        #expect(conf.status == 0, "\(conf.stderr)")
        let confRow = try #require(try LifeboatCLI.json(conf) as? [String: Any])
        #expect(confRow["type"] as? String == "CONFIGURATION" && confRow["status"] as? String == "SUCCEEDED")
        let confTest = try #require(confRow["restoreTest"] as? [String: Any])
        #expect(confTest["result"] as? String == "PASSED" && confTest["location"] as? String == "usb", "\(confTest)")
        #expect(try run(["run", "app-config", "--restore-test-from", "usb"]).status == 64)

        let rows = try log()
        #expect(rows.count == 2)
        #expect(rows.map { $0["source"] as? String } == ["app-config", "app-db"])
        #expect((rows[0]["restoreTest"] as? [String: Any])?["tested"] as? Bool == true)
        let db = rows[1]
        #expect(db["scheduleType"] as? String == "SCHEDULED")
        #expect((db["preCheck"] as? [String: Any])?["passed"] as? Bool == true)
        #expect((db["postCheck"] as? [String: Any])?["passed"] as? Bool == true)
        #expect(copies(db) == ["primary": "VERIFIED", "usb": "VERIFIED"])
        #expect(try log(["--source", "app-db"]).count == 1)
        #expect(try log(["--status", "failed_precheck"]).isEmpty)
        #expect(try log(["--since", "1h"]).count == 2)
        #expect(try log(["--since", "2999-01-01T00:00:00Z"]).isEmpty)
        let text = try run(["log"])
        #expect(text.status == 0 && text.stdout.contains("app-db") && text.stdout.contains("pre-check passed"), "\(text.stdout)")

        #expect(try run(["log", "--status", "MAYBE"]).status == 64)
        #expect(try run(["log", "--since", "yesterday"]).status == 64)
        let unknown = try run(["run", "nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no source named 'nope'"), "\(unknown.stderr)")
        let wrongType = try run(["run", "app-db", "--type", "transaction-log"])
        #expect(wrongType.status == 1 && wrongType.stderr.contains("postgres"), "\(wrongType.stderr)")
        // A wrong passphrase is a failed run: recorded FAILED with the reason, naming where the passphrase came from.
        let bad = scratch.path + "/bad-password"
        try "wrong".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try run(["run", "app-db"], ["LIFEBOAT_PASSWORD_FILE": bad])
        #expect(refused.status == 12 && refused.stderr.contains(bad), "\(refused.stderr)")
        let failed = try log()
        #expect(failed.count == 3)
        #expect(failed.first?["status"] as? String == "FAILED" && failed.first?["source"] as? String == "app-db")
        #expect((failed.first?["error"] as? String)?.contains(bad) == true, "\(failed.first ?? [:])")
    }

    @Test("a run whose PRIMARY is down, or whose passphrase file cannot be read, is recorded FAILED with the reason")
    func failedBeforeTheBackup() throws {
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        let missing = try run(["run", "app-config"], ["LIFEBOAT_PASSWORD_FILE": scratch.path + "/no-such-file"])
        #expect(missing.status == 1 && missing.stderr.contains("no-such-file"), "\(missing.stderr)")
        try FileManager.default.moveItem(atPath: scratch.path + "/primary", toPath: scratch.path + "/primary.away")
        let down = try run(["run", "app-config"])
        #expect(down.status == 10, "\(down.stderr)")
        let rows = try log()
        try #require(rows.map { $0["status"] as? String } == ["FAILED", "FAILED"], "\(rows)")
        #expect((rows[1]["error"] as? String)?.contains("no-such-file") == true, "\(rows[1])")
        #expect((rows[0]["error"] as? String)?.contains(scratch.path + "/primary") == true, "\(rows[0])")
    }

    @Test("Ctrl-C during run: exit 130, the row INTERRUPTED with what the run leaves, never FAILED with CancellationError", .timeLimit(.minutes(5)))
    func interruptedRun() throws {
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        var rng = SeededBytes(seed: 73)
        let held = app + "/config/held.bin"
        try FileTree.write(held, rng.bytes(1 << 20))
        // The run blocks in open(2) on this file until the lease goes: the signal is sure
        // to come in the middle of the backup stage.
        let leases = try FileLeases([held])
        let stderr = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LifeboatCLI.executable)
        process.arguments = ["run", "app-config"]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        let wait = try EventWait()
        wait.wake(onSignal: SIGWINCH)
        try process.run()
        wait.wake(onEndOf: process)
        let errors = LineReader(stderr.fileHandleForReading)
        try wait.until("the run to open the held file") { !leases.contended.isEmpty || !process.isRunning }
        try #require(process.isRunning, "the run ended before it read the file: \(errors.readToEnd())")
        kill(process.processIdentifier, SIGINT)
        let acknowledged = errors.waitFor("interrupted, stopping")
        leases.releaseAll()
        process.waitUntilExit()
        let output = errors.readToEnd()
        #expect(acknowledged, "\(output)")
        #expect(process.terminationStatus == 130, "\(output)")
        #expect(output.contains("no snapshot was written") && output.contains("next backup to reuse"), "\(output)")
        let row = try #require(try log().first)
        #expect(row["status"] as? String == "INTERRUPTED", "\(row)")
        let error = try #require(row["error"] as? String)
        #expect(error.contains("no snapshot was written") && error.contains("prune removes it") && !error.contains("CancellationError"), "\(error)")
        // The next run goes ahead.
        #expect(try run(["run", "app-config"]).status == 0)
    }

    @Test("retention prunes each location it forgets in; prune --location prunes one; run and log say when each location was last pruned")
    func prunePerLocation() throws {
        let retention = scratch.path + "/retention.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary, retention: { keepLast: 1 } }
              - { name: cloud, role: SECONDARY, path: \(scratch.path)/cloud, retention: { keepLast: 1 } }
            sources:
              - { name: app-config, kind: files, paths: [\(app)/config] }
            """.write(toFile: retention, atomically: true, encoding: .utf8)
        let env = cli.environment(config: retention)
        #expect(try cli.run(["init", "--kdf-n", "1024"], environment: env).status == 0)
        var rng = SeededBytes(seed: 79)
        try FileTree.write(app + "/config/blob.bin", rng.bytes(400_000))
        let first = try cli.run(["run", "app-config"], environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("cloud SECONDARY: VERIFIED; never pruned"), "nothing to forget yet: \(first.stdout)")

        try FileTree.write(app + "/config/blob.bin", rng.bytes(400_000))
        let second = try cli.run(["run", "app-config"], environment: env)
        #expect(second.status == 0, "\(second.stderr)")
        // Both locations forgot the first snapshot, then were pruned.
        #expect(second.stdout.contains("primary PRIMARY: VERIFIED; last pruned 20"), "\(second.stdout)")
        #expect(second.stdout.contains("cloud SECONDARY: VERIFIED; last pruned 20"), "\(second.stdout)")
        let rows = try #require(try LifeboatCLI.json(try cli.run(["log", "--json"], environment: env)) as? [[String: Any]])
        let copies = rows.flatMap { ($0["locations"] as? [[String: Any]]) ?? [] }
        #expect(copies.count == 4 && copies.allSatisfy { $0["lastPrunedAt"] is String }, "\(copies)")
        #expect(try cli.run(["log"], environment: env).stdout.contains("last pruned: cloud 20"))

        // The run's prune spared the young packs (its grace period); an explicit prune of the
        // SECONDARY without one removes the first snapshot's data there, and is recorded.
        let pruned = try cli.run(["prune", "--location", "cloud", "--pack-grace", "0", "--json"], environment: env)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let report = try #require(try LifeboatCLI.json(pruned) as? [String: Any])
        #expect((report["packsDeleted"] as? Int ?? 0) > 0, "\(report)")
        #expect((report["bytesAfter"] as? Int ?? .max) < (report["bytesBefore"] as? Int ?? 0), "\(report)")
        let check = try cli.run(["check", "--read-data", "--repo", scratch.path + "/cloud"], environment: env)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let unknown = try cli.run(["prune", "--location", "nas"], environment: env)
        #expect(unknown.status == 1 && unknown.stderr.contains("no location named 'nas'"), "\(unknown.stderr)")
    }

    @Test("the catalog is a witness: check and locations --verify report a snapshot it recorded in a location that the location no longer has")
    func catalogWitness() throws {
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        #expect(try run(["run", "app-config"]).status == 0)
        try FileTree.write(app + "/config/app.yaml", Array("listen: 127.0.0.1:8081\n".utf8))
        #expect(try run(["run", "app-config"]).status == 0)
        let clean = try run(["check"])
        #expect(clean.status == 0, "\(clean.stdout) \(clean.stderr)")
        let newest = try #require(try log().first?["snapshotId"] as? String)
        // The provider rolls the primary back to before the newest backup: its snapshot is gone, nothing else is wrong.
        try FileManager.default.removeItem(atPath: scratch.path + "/primary/snapshots/" + newest)

        let check = try run(["check"])
        #expect(check.status == 13, "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("snapshot \(newest.prefix(8)) was recorded as stored here but is missing"), "\(check.stdout)")
        let verify = try run(["locations", "--verify", "--json"])
        let primary = try #require(((try LifeboatCLI.json(verify) as? [String: Any])?["locations"] as? [[String: Any]])?.first { $0["name"] as? String == "primary" })
        #expect(primary["verificationErrors"] as? Int == 1, "\(primary)")
        #expect((primary["verificationDetails"] as? [String])?.first?.contains(String(newest.prefix(8))) == true, "\(primary)")
        let usb = try #require(((try LifeboatCLI.json(verify) as? [String: Any])?["locations"] as? [[String: Any]])?.first { $0["name"] as? String == "usb" })
        #expect(usb["verificationErrors"] as? Int == 0, "\(usb)")
    }

    @Test("the passphrase may come from the file or the environment variable lifeboat.yaml names, never from lifeboat.yaml")
    func configuredPassphrase() throws {
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        let original = try String(contentsOfFile: config, encoding: .utf8)
        var bare = environment
        bare.removeValue(forKey: "LIFEBOAT_PASSWORD_FILE")
        try (original + "\npassphrase: { file: \(cli.passwordFile) }\n").write(toFile: config, atomically: true, encoding: .utf8)
        let fromFile = try cli.run(["run", "app-config"], environment: bare)
        #expect(fromFile.status == 0, "\(fromFile.stderr)")

        try (original + "\npassphrase: { env: APP_BACKUP_PASSPHRASE }\n").write(toFile: config, atomically: true, encoding: .utf8)
        let unset = try cli.run(["run", "app-config"], environment: bare)
        #expect(unset.status == 1 && unset.stderr.contains("APP_BACKUP_PASSPHRASE"), "\(unset.stderr)")
        var withVariable = bare
        withVariable["APP_BACKUP_PASSPHRASE"] = try String(contentsOfFile: cli.passwordFile, encoding: .utf8)
        #expect(try cli.run(["run", "app-config"], environment: withVariable).status == 0)
        withVariable["APP_BACKUP_PASSPHRASE"] = "not the passphrase"
        #expect(try cli.run(["run", "app-config"], environment: withVariable).status == 12)

        // A wrong passphrase in the file lifeboat.yaml names: the message names that file, not a flag.
        let wrong = scratch.path + "/wrong-pass"
        try "not it\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        try (original + "\npassphrase: { file: \(wrong) }\n").write(toFile: config, atomically: true, encoding: .utf8)
        let wrongRun = try cli.run(["run", "app-config"], environment: bare)
        #expect(wrongRun.status == 12, "\(wrongRun.stderr)")
        #expect(wrongRun.stderr.contains("the file \(wrong) (passphrase: in \(config))") && !wrongRun.stderr.contains("--password-file"), "\(wrongRun.stderr)")
        let wrongSnapshots = try cli.run(["snapshots"], environment: bare)
        #expect(wrongSnapshots.status == 12 && wrongSnapshots.stderr.contains(wrong) && !wrongSnapshots.stderr.contains("--password-file"), "\(wrongSnapshots.stderr)")

        try (original + "\npassphrase: { file: relative/pass }\n").write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try cli.run(["config", "check"], environment: bare).stderr.contains("passphrase file must be absolute"))
        try (original + "\npassphrase: { file: /x, env: Y }\n").write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try cli.run(["config", "check"], environment: bare).stderr.contains("exactly one of file: PATH or env: NAME"))
    }

    @Test("an unmounted medium: the run succeeds on PRIMARY, exits 3 and leaves the copy PENDING until a later run")
    func pendingLocation() throws {
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        try FileManager.default.removeItem(atPath: scratch.path + "/media")
        let out = try run(["run", "app-config"])
        #expect(out.status == 3, "\(out.stderr)")
        #expect(out.stderr.contains("pending"))
        #expect(copies(try #require(try log().first)) == ["primary": "VERIFIED", "usb": "PENDING"])
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/media"), "a medium that is not mounted is never created")
        _ = try scratch.sub("media")
        #expect(try run(["run", "app-config"]).status == 0)
        #expect(try log().allSatisfy { copies($0)["usb"] == "VERIFIED" })
    }

    @Test("restore-test of a source from the medium is recorded in its row; catalog rebuild brings back a lost catalog")
    func restoreTestAndRebuild() throws {
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        #expect(try run(["run", "app-db"]).status == 0)
        #expect(try run(["run", "app-config"]).status == 0)
        let test = try run(["restore-test", "app-db", "--location", "usb", "--json"])
        #expect(test.status == 0, "\(test.stderr)")
        let report = try #require(try LifeboatCLI.json(test) as? [String: Any])
        #expect(report["passed"] as? Bool == true && report["recordedRows"] as? Int == 1)
        #expect(report["source"] as? String == "app-db" && report["sourceKind"] as? String == "sqlite", "JSON's one vocabulary: \(report)")
        let tested = try #require(try log(["--source", "app-db"]).first?["restoreTest"] as? [String: Any])
        #expect(tested["tested"] as? Bool == true && tested["result"] as? String == "PASSED" && tested["location"] as? String == "usb")
        #expect(try log(["--source", "app-config"]).first.map { ($0["restoreTest"] as? [String: Any])?["tested"] as? Bool } == false)
        let noSuch = try run(["restore-test", "nothing-like-this"])
        #expect(noSuch.status != 0)

        // The catalog is lost, its -wal and -shm with it (a WAL left beside a new file of the
        // same name would be replayed into it); the medium still has both snapshots.
        for file in ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"] where FileManager.default.fileExists(atPath: scratch.path + "/" + file) {
            try FileManager.default.removeItem(atPath: scratch.path + "/" + file)
        }
        #expect(try log().isEmpty)
        let rebuilt = try run(["catalog", "rebuild", "--from", "usb", "--json"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect((try LifeboatCLI.json(rebuilt) as? [String: Any])?["added"] as? Int == 2)
        let rows = try log()
        #expect(Set(rows.compactMap { $0["source"] as? String }) == ["app-db", "app-config"])
        #expect(rows.allSatisfy { $0["status"] as? String == "SUCCEEDED" && copies($0) == ["usb": "PRESENT"] })
        #expect(try run(["catalog", "rebuild", "--from", "nowhere"]).status == 1)
    }

    @Test("the catalog in PostgreSQL, named by URL with the password from the environment", .enabled(if: ScratchPostgres.isAvailable, "no PostgreSQL server programs (scripts/test installs them)"))
    func postgresCatalog() throws {
        let server = try ScratchPostgres()
        _ = try server.sql("CREATE ROLE lifeboat LOGIN PASSWORD 'catalog-secret'")
        _ = try server.sql("CREATE DATABASE catalog OWNER lifeboat")
        // The scratch cluster trusts every local connection; this role must give its password.
        let hba = server.dataDirectory + "/pg_hba.conf"
        let rules = try String(contentsOfFile: hba, encoding: .utf8)
        try ("host catalog lifeboat 127.0.0.1/32 scram-sha-256\n" + rules).write(toFile: hba, atomically: false, encoding: .utf8)
        _ = try server.sql("SELECT pg_reload_conf()")
        var text = try String(contentsOfFile: config, encoding: .utf8)
        text += "\ncatalog: { postgres: \"postgresql://lifeboat@127.0.0.1:\(server.port)/catalog\", passwordEnv: CATALOG_PASSWORD }\n"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        let missing = try run(["run", "app-db"])
        #expect(missing.status == 1 && missing.stderr.contains("CATALOG_PASSWORD"), "\(missing.stderr)")
        let wrong = try run(["run", "app-db"], ["CATALOG_PASSWORD": "not-it"])
        #expect(wrong.status == 1 && wrong.stderr.contains("catalog"), "\(wrong.stderr)")
        let out = try run(["run", "app-db"], ["CATALOG_PASSWORD": "catalog-secret"])
        #expect(out.status == 0, "\(out.stderr)")
        let rows = try cli.run(["log", "--json"], environment: environment.merging(["CATALOG_PASSWORD": "catalog-secret"]) { _, n in n })
        #expect((try LifeboatCLI.json(rows) as? [[String: Any]])?.count == 1)
        #expect(try server.sql("SELECT count(*) FROM backup_logs", database: "catalog").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/catalog.sqlite"))
    }

    @Test("a SECONDARY in S3: the run copies there, restore-test proves a restore from it alone, and a bucket that is down leaves the copy PENDING",
        .enabled(if: S3TestServer.isAvailable, "scripts/test starts moto_server"))
    func s3Secondary() throws {
        let bucket = "run-\(UUID().uuidString.prefix(8).lowercased())"
        var text = try String(contentsOfFile: config, encoding: .utf8)
        text = text.replacingOccurrences(of: "sources:", with: "  - { name: cloud, role: SECONDARY, path: \"s3://\(bucket)/app\" }\nsources:")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let s3 = ["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL": S3TestServer.endpoint!, "AWS_REGION": "us-east-1"]
        #expect(try run(["init", "--kdf-n", "1024"]).status == 0)
        let first = try run(["run", "app-db"], s3)
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        #expect(copies(try #require(try log().first)) == ["primary": "VERIFIED", "cloud": "VERIFIED", "usb": "VERIFIED"])

        // The PRIMARY is gone: the restoration test reads the bucket alone.
        try FileManager.default.moveItem(atPath: scratch.path + "/primary", toPath: scratch.path + "/primary-away")
        let test = try run(["restore-test", "app-db", "--location", "cloud", "--json"], s3)
        #expect(test.status == 0, "\(test.stderr)")
        #expect((try LifeboatCLI.json(test) as? [String: Any])?["passed"] as? Bool == true)
        #expect((try log().first?["restoreTest"] as? [String: Any])?["location"] as? String == "cloud")
        try FileManager.default.moveItem(atPath: scratch.path + "/primary-away", toPath: scratch.path + "/primary")

        // The endpoint answers no more: PRIMARY and the medium still get their copies.
        let port = try ScratchPostgres.freePort()
        let down = try run(["run", "app-db"], s3.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:\(port)"]) { _, n in n })
        #expect(down.status == 3, "\(down.stderr)")
        let row = try #require(try log().first)
        #expect(row["status"] as? String == "SUCCEEDED")
        #expect(copies(row) == ["primary": "VERIFIED", "cloud": "PENDING", "usb": "VERIFIED"])
        #expect(try run(["run", "app-db"], s3).status == 0)
        #expect(try log().allSatisfy { copies($0)["cloud"] == "VERIFIED" })
    }
}
