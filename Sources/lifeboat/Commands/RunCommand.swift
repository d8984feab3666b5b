import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore

/// `lifeboat run SOURCE`: the whole backup process for a source of lifeboat.yaml, recorded
/// stage by stage in the catalog's BackupLog.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Back up a configured source through the whole pipeline and record it in the BackupLog.",
        discussion: """
            Stages: the pre-backup consistency check (a failure stops with FAILED_PRECHECK and \
            nothing written); the backup to the PRIMARY location with a fresh data key; the \
            post-backup read-back of every object it wrote (FAILED_VERIFICATION, no snapshot, exit \
            13 on damage); replication to every other location but AIR_GAPPED, each copy read back \
            by name (a location that is down stays PENDING, is retried by the next run, and makes \
            the exit status 3); retention per location. The BackupLog row is written RUNNING at \
            the start and updated after every stage; rows left RUNNING by a process that is gone \
            are marked INTERRUPTED. With --restore-test, the new snapshot is then restored into a \
            sandbox from PRIMARY (or --restore-test-from) and checked as by restore-test, and the \
            result recorded in the row (exit 13 when it fails).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "A source named in lifeboat.yaml.")
    var source: String

    @Option(name: .long, help: "full, incremental, transaction-log (postgres) or configuration (files) (default: incremental when a parent exists).")
    var type: BackupTypeArgument?

    @Option(name: .long, help: "What the BackupLog records as the schedule type: SCHEDULED, MANUAL (default) or ON_CHANGE.")
    var scheduleType: ScheduleType = .manual

    @Flag(name: .long, help: "Then prove the new snapshot restores: a restoration test, recorded in the row.")
    var restoreTest = false

    @Option(name: .long, help: "With --restore-test: restore from this location (default: PRIMARY).")
    var restoreTestFrom: String?

    func validate() throws {
        if restoreTestFrom != nil && !restoreTest { throw ValidationError("--restore-test-from goes with --restore-test") }
    }

    func run() async throws {
        guard let config = try repository.configuration() else {
            throw CLIError("run needs lifeboat.yaml (or --config) with the source and a PRIMARY location")
        }
        let testLocation = try restoreTestFrom.map { try config.location(named: $0) }
        let passphrase = try repository.passphrase()
        var record = try await Self.perform(
            config: config, sourceName: source, type: type?.backupType, scheduleType: scheduleType,
            passphrase: passphrase)
        var testFailed = false
        if restoreTest, let snapshot = record.snapshotId, let location = testLocation ?? config.primary {
            let repo = try await Repository.open(backend: try config.backend(for: location), passphrase: passphrase)
            let entry = try await repo.findSnapshot(snapshot)
            let walFetch = entry.snapshot.source.kind == "postgres" ? try repository.walFetchCommand(at: location.path) : nil
            let report = try await RestoreTestCommand.test(entry, in: repo, scratchDirectory: NSTemporaryDirectory(), query: nil, restoreCommand: walFetch)
            _ = await RestoreTestCommand.record(report, in: config, location: location.name)
            testFailed = !report.passed
            // The row as recorded, with the test.
            let id = record.id
            if let tested = try? await Catalog.using(try config.catalogLocation(), { try await $0.backup(id: id) }) { record = tested }
        }
        if output.json {
            try JSONOutput.print(record)
        } else {
            print(LogCommand.line(record))
            for copy in record.locations { print("  \(copy.location) \(copy.role): \(copy.status.rawValue)\(copy.error.map { " (\($0))" } ?? "")") }
            if record.restoreTest.tested {
                print("  restore test from \(record.restoreTest.location ?? "?"): \(record.restoreTest.result ?? "?") in \(String(format: "%.1f", record.restoreTest.durationSeconds ?? 0)) s: \(record.restoreTest.details ?? "")")
            }
        }
        if testFailed { throw RestorationTestFailure() }
        let pending = record.locations.filter { $0.status == .pending }
        if !pending.isEmpty {
            FileHandle.standardError.write(Data("lifeboat: warning: the copy in \(pending.map(\.location).joined(separator: ", ")) is pending; the next run retries it\n".utf8))
            throw ExitCode(ExitStatus.partial.rawValue)
        }
    }

    /// One run of the pipeline for a configured source, recorded in the catalog; returns its row.
    static func perform(
        config: LifeboatConfiguration, sourceName: String, type: BackupType?, scheduleType: ScheduleType, passphrase: String
    ) async throws -> BackupRecord {
        let source = try config.source(named: sourceName)
        guard let primary = config.primary else { throw CLIError("\(config.file) names no PRIMARY location to back up to") }
        try check(type, for: source)
        let pipelineSource = try pipelineSource(source)
        let primaryRepository = try await Repository.open(backend: try config.backend(for: primary), passphrase: passphrase)
        let others = try config.locations.filter { $0.role != .primary }.map { l in
            BackupPipeline.Location(
                name: l.name, role: l.role.rawValue, medium: l.medium, retention: try l.retention?.policy(in: config.file),
                replicates: l.role != .airGapped, open: { try await config.openBackend(for: l, create: mayCreate(l)) })
        }
        var pipeline = BackupPipeline(primary: primaryRepository, primaryName: primary.name, locations: others, passphrase: passphrase)
        pipeline.primaryRetention = try primary.retention?.policy(in: config.file)

        return try await Catalog.using(try config.catalogLocation()) { catalog in
            try await catalog.markInterrupted(host: Identity.host)
            var request = BackupPipeline.Request(sourceName: source.name, source: pipelineSource, type: type, host: Identity.host, username: Identity.username)
            request.programVersion = Lifeboat.version
            let faultStage = ProcessInfo.processInfo.environment["LIFEBOAT_FAULT_AFTER_STAGE"]
            return try await BackupLogRecorder.run(
                pipeline, request, in: catalog,
                as: Catalog.NewBackup(
                    type: type?.rawValue ?? "AUTO", scheduleType: scheduleType, source: source.name, sourceKind: source.kind.rawValue,
                    requestedBy: Identity.username, host: Identity.host, pid: Int(getpid()))
            ) { event in
                // Fault injection for the crash tests: die as a crash would, right after a stage is recorded.
                if let faultStage, faultStage == event.stage.rawValue { kill(getpid(), SIGKILL) }
            }
        }
    }

    /// A medium's folder is made only where its mount point exists: without it the medium
    /// is not mounted, and writing there would fill the host's own disk.
    static func mayCreate(_ l: LifeboatConfiguration.Location) -> Bool {
        l.medium == nil || FileManager.default.fileExists(atPath: (l.path as NSString).deletingLastPathComponent)
    }

    static func check(_ type: BackupType?, for source: LifeboatConfiguration.Source) throws {
        if type == .transactionLog && source.kind != .postgres { throw CLIError("--type transaction-log is for postgres sources; '\(source.name)' is \(source.kind.rawValue)") }
        if type == .configuration && source.kind != .files { throw CLIError("--type configuration is for files sources; '\(source.name)' is \(source.kind.rawValue)") }
    }

    static func pipelineSource(_ source: LifeboatConfiguration.Source) throws -> BackupPipeline.Source {
        switch source.kind {
        case .files: return .files(paths: source.paths ?? [], excludes: source.exclude ?? [])
        case .sqlite: return .sqlite(path: source.path ?? "")
        case .postgres:
            // libpq reads PGPASSWORD when it connects; the secret never reaches a command line.
            if let password = try LifeboatConfiguration.secret(environment: source.passwordEnv, file: source.passwordFile, for: "source '\(source.name)'") {
                setenv("PGPASSWORD", password, 1)
            }
            var pg = PostgreSQLSource(url: source.url ?? "")
            pg.amcheckIndexes = source.amcheckIndexes ?? []
            return .postgres(pg, dataDirectory: source.pgdata)
        }
    }
}

// SCHEDULED, MANUAL, ON_CHANGE on the command line, as the catalog spells them.
extension ScheduleType: ExpressibleByArgument {}
