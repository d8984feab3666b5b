import ArgumentParser
import CSQLite
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import LifeboatServer
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The whole story on the embedded default, in a scratch directory: a sample application
/// (a SQLite database and a configuration folder) and a lifeboat.yaml with a PRIMARY and a
/// TERTIARY location; FULL, changes, INCREMENTAL and CONFIGURATION runs through the
/// pipeline, verification of both locations, a restoration test from the medium, and the
/// BackupLog that recorded it all.
struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Run the whole backup process on a sample application in a scratch directory and print its BackupLog.")

    @Option(name: .long, help: "Work in this directory instead of a new temporary one (it is kept).")
    var directory: String?

    @Flag(name: .long, help: "Keep the temporary directory afterwards.")
    var keep = false

    @Flag(name: .long, help: "Then run the daemon on the sample (its schedules, the API and the web console) until Ctrl-C; prints the console's address and an admin token to log in with. Keeps the directory.")
    var serve = false

    @Option(name: .long, help: "HOST:PORT of the daemon with --serve (default 127.0.0.1:8470; port 0 picks a free one).")
    var listen: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if listen != nil && !serve { throw ValidationError("--listen is for --serve: the daemon runs only with --serve") }
        if let listen, ListenAddress(listen) == nil { throw ValidationError("--listen must be HOST:PORT such as 127.0.0.1:8470, not '\(listen)'") }
        if serve && output.json { throw ValidationError("--serve runs until Ctrl-C, and --json prints one document at the end: choose one") }
    }

    func run() async throws {
        // As `lifeboat serve` sizes it, when the daemon follows.
        if serve { BlockingIOQueue.configure(threads: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)) }
        let clock = ContinuousClock()
        let started = clock.now
        var base = directory ?? (NSTemporaryDirectory() + "lifeboat-quickstart-\(UUID().uuidString.prefix(8))")
        if !base.hasPrefix("/") { base = FileManager.default.currentDirectoryPath + "/" + base }
        let fm = FileManager.default
        try fm.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer {
            // A scratch directory we made is ours to remove; failure to remove it loses nothing.
            if directory == nil && !keep && !serve { try? fm.removeItem(atPath: base) }
        }
        let app = base + "/app"
        say("Lifeboat quickstart in \(base)")

        try SampleApplication.create(at: app)
        say("1. sample application in \(app): a SQLite database (\(SampleApplication.orders) orders) and a configuration folder")

        try fm.createDirectory(atPath: base + "/media", withIntermediateDirectories: true)
        let configPath = base + "/lifeboat.yaml"
        let kept = directory != nil || keep || serve
        // lifeboat.yaml says where its passphrase is, so every verb run in its folder (or with
        // --config) unlocks the repository without a flag.
        try """
            # Written by lifeboat quickstart.
            passphrase: { file: \(base)/passphrase }
            locations:
              - { name: primary, role: PRIMARY, path: \(base)/primary, retention: { keepLast: 10 } }
              - { name: usb, role: TERTIARY, path: \(base)/media/usb-1, medium: usb-1 }
            sources:
              - { name: app-db, kind: sqlite, path: \(app)/data/app.db }
              - { name: app-config, kind: files, paths: [\(app)/config] }
            schedules:
              - { source: app-db, type: FULL, cron: "0 2 * * 0" }
              - { source: app-db, type: INCREMENTAL, cron: "0 2 * * 1-6" }
              - { source: app-config, type: CONFIGURATION, cron: "*/15 * * * *", scheduleType: ON_CHANGE }
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let config = try LifeboatConfiguration.load(configPath)
        let environment = ProcessInfo.processInfo.environment
        let context = OperationsContext(
            configuration: config, secrets: SecretLookup(environment: environment),
            backends: LocationBackends(environment: environment, sharing: CLIResources.httpClient), programVersion: Lifeboat.version,
            logger: CLILogging.logger)
        let passphrase = Digest256.random().hex
        try Self.writeSecret(passphrase, to: base + "/passphrase")
        let primaryBackend = try LocalDirectoryBackend(path: base + "/primary", create: true)
        let primary = try await Repository.initialize(
            backend: primaryBackend, passphrase: passphrase, host: context.requester.host, username: context.requester.username)
        say("2. \(configPath): PRIMARY \(base)/primary (encrypted repository; passphrase in \(base)/passphrase), TERTIARY removable medium usb-1; catalog \(try context.catalogLocation())")

        func run(_ source: String, _ type: BackupType, _ step: String) async throws -> BackupRecord {
            let record = try await BackupJob(context: context).run(.init(source: source, type: type), passphrase: passphrase).record
            say("\(step) \(type.rawValue) of \(source): \(record.status.rawValue), snapshot \(record.snapshotId?.prefix(8) ?? "none"), read \(ByteFormat.string(record.bytesRead ?? 0)), added \(ByteFormat.string(record.bytesAdded ?? 0)); pre-check \(record.preCheck?.passed == true ? "passed" : "FAILED"), read-back \(record.postCheck?.passed == true ? "passed" : "FAILED"), \(record.locations.map { "\($0.location) \($0.status.rawValue)" }.joined(separator: ", "))")
            return record
        }
        let full = try await run("app-db", .full, "3.")
        try SampleApplication.change(at: app)
        say("4. changed the application: 250 new orders, 40 updated, the pool size in app.yaml")
        let incremental = try await run("app-db", .incremental, "5.")
        let configuration = try await run("app-config", .configuration, "6.")

        let primaryCheck = try await Checker(repository: primary).check(readData: true)
        let medium = try await context.repository(in: try config.location(named: "usb"), passphrase: passphrase)
        let mediumCheck = try await Checker(repository: medium).check(readData: true)
        // Recorded as `locations --verify` records them: `locations` then says when each was verified.
        try await context.withCatalog { catalog in
            try await catalog.recordLocationCheck(location: "primary", errors: primaryCheck.errors.count, details: primaryCheck.isOK ? nil : primaryCheck.errors.joined(separator: "; "))
            try await catalog.recordLocationCheck(location: "usb", errors: mediumCheck.errors.count, details: mediumCheck.isOK ? nil : mediumCheck.errors.joined(separator: "; "))
        }
        say("7. verified both locations (check --read-data): primary \(primaryCheck.packsChecked) packs, \(primaryCheck.snapshotsChecked) snapshots: \(primaryCheck.isOK ? "no errors" : primaryCheck.errors.joined(separator: "; ")); usb \(mediumCheck.snapshotsChecked) snapshots: \(mediumCheck.isOK ? "no errors" : mediumCheck.errors.joined(separator: "; "))")

        guard let tested = incremental.snapshotId else { throw CLIError("the INCREMENTAL run wrote no snapshot: \(incremental.error ?? "")") }
        let entry = try await medium.findSnapshot(tested)
        let test = try await RestorationTest(repository: medium, scratchDirectory: base).run(entry)
        _ = try await context.withCatalog { try await RestorationTest.record(test, in: $0, location: "usb") }
        say("8. restoration test of the INCREMENTAL from the medium: \(test.passed ? "PASSED" : "FAILED") in \(String(format: "%.2f", test.durationSeconds)) s: \(test.details)")

        let drill = try await drill(base: base, context: context, passphrase: passphrase)

        let log = try await context.withCatalog { try await $0.backups() }
        // Commands are suggested only for a folder that outlives this run.
        say(kept ? "10. the BackupLog (lifeboat log --config \(configPath)):" : "10. the BackupLog:")
        for r in log {
            say("   " + LogCommand.line(r))
            say("       copies: \(r.locations.map { "\($0.location)=\($0.status.rawValue)" }.joined(separator: " ")); restore test: \(r.restoreTest.result ?? "not yet")")
        }

        let runs = [full, incremental, configuration]
        let ok =
            runs.allSatisfy { $0.status == .succeeded && $0.locations.allSatisfy { $0.status == .verified } } && primaryCheck.isOK && mediumCheck.isOK && test.passed
            && drill.status == .succeeded
        say("\(ok ? "OK" : "FAILED"): \(runs.count) runs recorded, both locations verified, restore proven, recovery drilled, in \(String(format: "%.1f", (clock.now - started).seconds)) s")
        if output.json {
            let objectives = RecoveryObjectives(record: drill)
            try JSONOutput.print(
                QuickstartJSON(
                    ok: ok, directory: base, kept: kept, config: configPath,
                    runs: runs.map { .init(source: $0.source, type: $0.type, status: $0.status.rawValue, snapshotId: $0.snapshotId) },
                    locations: [
                        .init(name: "primary", errors: primaryCheck.errors), .init(name: "usb", errors: mediumCheck.errors),
                    ],
                    restorationTest: .init(passed: test.passed, durationSeconds: test.durationSeconds, details: test.details),
                    drill: .init(
                        status: drill.status.rawValue, rtoSeconds: objectives.rtoAchievedSeconds, rtoTargetSeconds: objectives.rtoTargetSeconds,
                        rtoMet: objectives.isRTOMet, rpoSeconds: objectives.rpoAchievedSeconds, rpoTargetSeconds: objectives.rpoTargetSeconds,
                        rpoMet: objectives.isRPOMet),
                    durationSeconds: (clock.now - started).seconds))
        }
        if serve && ok {
            try await serveSample(base: base, context: context, passphrase: passphrase)
            return
        }
        if kept {
            say("Files kept in \(base); try there: lifeboat log, lifeboat snapshots, lifeboat locations (lifeboat.yaml names the passphrase file)")
            say("next: `lifeboat serve --config \(configPath) --password-file \(base)/passphrase` runs the sample's schedules (health and metrics on http://127.0.0.1:8470); `lifeboat status --config \(configPath)` says where its backups stand")
        } else {
            say("The scratch folder \(base) is removed now; run 'lifeboat quickstart --keep' (or --directory DIR) to keep it and try lifeboat log, snapshots and locations in it")
            say("next: with --keep or --directory DIR, the sample stays and `lifeboat serve --config DIR/lifeboat.yaml` runs its schedules; --serve runs it now, with the web console")
        }
        if !ok { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }

    /// `--serve`: the daemon on the sample, as `lifeboat serve --config BASE/lifeboat.yaml`
    /// runs it, with an admin token made for the console (valid for a day) printed once the
    /// listener is up, beside the console's address.
    private func serveSample(base: String, context: OperationsContext, passphrase: String) async throws {
        let name = "quickstart-\(Digest256.random().hex.prefix(8))"
        let created = try await AccessTokens(context: context).create(name: name, role: .admin, lifetime: .seconds(86_400))
        let address = ListenAddress(listen ?? LifeboatConfiguration.Server.defaultListen)!
        var handler = StreamLogHandler.standardError(label: "lifeboat.serve")
        handler.logLevel = .info
        let logger = Logger(label: "lifeboat.serve", factory: { _ in handler })
        var daemon = Daemon(jobs: ScheduledJobs(context: context, passphrase: passphrase), listen: address, logger: logger)
        let config = base + "/lifeboat.yaml"
        let token = created.token
        daemon.onListening = { url in
            // Written at once, unbuffered: whoever reads the pipe sees it as the daemon starts.
            FileHandle.standardOutput.write(
                Data(
                    """
                    The daemon runs the sample's schedules; the web console is at \(url)/console
                    Log in with this admin token (shown once, valid for 24 h; `lifeboat token revoke \(name) --config \(config)` ends it):
                    \(token)
                    The API is at \(url)/api (the same token as a bearer token). Ctrl-C stops the daemon; the files stay in \(base).

                    """.utf8))
        }
        try await daemon.run()
    }

    /// A recovery plan for the sample application, stored in the catalog, and a drill of it
    /// in a sandbox under `base`: its achieved RTO and RPO against the plan's targets.
    private func drill(base: String, context: OperationsContext, passphrase: String) async throws -> RecoveryExecutionRecord {
        let file = base + "/plan-orders.yaml"
        try """
            # Written by lifeboat quickstart: drill it with 'lifeboat recover orders --test'.
            name: orders
            systemType: CRITICAL
            rto: 15m
            rpo: 1h
            description: The sample application's order database and configuration.
            steps:
              - {name: restore-db, type: RESTORE_BACKUP, source: app-db}
              - {name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "SELECT count(*) > 0 FROM orders"}
              - {name: restore-config, type: RESTORE_BACKUP, source: app-config, after: []}
              - {name: verify-config, type: VERIFY_SYSTEM, source: app-config, after: [restore-config]}
            testing: {every: 90d}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let stored = try await RecoveryPlans(context: context).create(file: file)
        var executor = RecoveryExecutor(context: context)
        executor.scratchDirectory = base
        let id = try await executor.start(.init(plan: stored.plan.name, mode: .test))
        let record = try await executor.run(id, passphrase: { passphrase }, events: { _ in })
        let objectives = RecoveryObjectives(record: record)
        func seconds(_ value: Double?) -> String { value.map { PlanDuration.format(Int64($0.rounded(.up))) } ?? "?" }
        func verdict(_ met: Bool?) -> String { met == true ? "met" : met == false ? "MISSED" : "not measured" }
        say(
            "9. recovery plan 'orders' (\(file)) drilled in a sandbox: \(record.status.rawValue); RTO \(seconds(objectives.rtoAchievedSeconds)) against \(seconds(objectives.rtoTargetSeconds)) (\(verdict(objectives.isRTOMet))), RPO \(seconds(objectives.rpoAchievedSeconds)) against \(seconds(objectives.rpoTargetSeconds)) (\(verdict(objectives.isRPOMet)))"
        )
        return record
    }

    /// The story as text: on stdout, or on stderr when stdout carries the JSON document.
    private func say(_ line: String) {
        // Unbuffered, as the daemon's lines of --serve are: they reach a pipe in order.
        (output.json ? FileHandle.standardError : FileHandle.standardOutput).write(Data((line + "\n").utf8))
    }
}

/// `quickstart --json`.
struct QuickstartJSON: Encodable {
    struct Run: Encodable {
        let source: String
        let type: String
        let status: String
        let snapshotId: String?
    }
    struct Location: Encodable {
        let name: String
        let errors: [String]
    }
    struct Test: Encodable {
        let passed: Bool
        let durationSeconds: Double
        let details: String
    }
    struct Drill: Encodable {
        let status: String
        let rtoSeconds: Double?
        let rtoTargetSeconds: Double?
        let rtoMet: Bool?
        let rpoSeconds: Double?
        let rpoTargetSeconds: Double?
        let rpoMet: Bool?
    }
    let ok: Bool
    let directory: String
    let kept: Bool
    let config: String
    let runs: [Run]
    let locations: [Location]
    let restorationTest: Test
    let drill: Drill
    let durationSeconds: Double
}

/// A small application: a SQLite database of orders and a configuration folder.
enum SampleApplication {
    static let orders = 20_000

    static func create(at root: String) throws {
        let fm = FileManager.default
        for dir in ["config", "data"] { try fm.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true) }
        try "database:\n  path: data/app.db\n  pool: 8\nlisten: 127.0.0.1:8080\n".write(toFile: "\(root)/config/app.yaml", atomically: true, encoding: .utf8)
        try "level: info\n".write(toFile: "\(root)/config/logging.yaml", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: "\(root)/config/current", withDestinationPath: "app.yaml")
        try execute(on: "\(root)/data/app.db", """
            PRAGMA journal_mode = WAL;
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES customers(id), amount REAL NOT NULL, note TEXT);
            CREATE INDEX orders_customer ON orders(customer);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 997)
              INSERT INTO customers (id, name) SELECT i, 'customer-' || i FROM n;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(orders))
              INSERT INTO orders (customer, amount, note) SELECT 1 + i % 997, (i * 37 % 10000) / 100.0, hex(randomblob(24)) FROM n;
            """)
    }

    static func change(at root: String) throws {
        try execute(on: "\(root)/data/app.db", """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
              INSERT INTO orders (customer, amount, note) SELECT 1 + i % 997, i / 10.0, 'new' FROM n;
            UPDATE orders SET amount = amount + 1 WHERE id % 500 = 0;
            """)
        try "database:\n  path: data/app.db\n  pool: 16\nlisten: 127.0.0.1:8080\n".write(toFile: "\(root)/config/app.yaml", atomically: true, encoding: .utf8)
    }

    /// Runs SQL on a database file, as the application would.
    static func execute(on path: String, _ sql: String) throws {
        var db: OpaquePointer?
        guard sqlite3_open(path, &db) == SQLITE_OK else {
            defer { sqlite3_close(db) }
            throw CLIError("cannot open the sample database \(path): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_close(db) }
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(db, sql, nil, nil, &message) == SQLITE_OK else {
            defer { sqlite3_free(message) }
            throw CLIError("the sample database: \(message.map { String(cString: $0) } ?? "error")")
        }
    }
}

extension QuickstartCommand {
    /// Writes a secret to a new file that is 0600 from its creation (a file written first
    /// and chmod-ed after is readable by anyone in between); an existing file or symlink
    /// of that name is refused, never followed or overwritten.
    static func writeSecret(_ secret: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CLIError("cannot create the passphrase file \(path): \(String(cString: strerror(errno))) (choose an empty --directory)")
        }
        defer { close(fd) }
        let bytes = Array(secret.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CLIError("cannot write the passphrase file \(path): \(String(cString: strerror(errno)))") }
            done += n
        }
    }
}
