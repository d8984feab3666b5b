import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

/// `lifeboat run SOURCE`: the whole backup process for a source of lifeboat.yaml, recorded
/// stage by stage in the catalog's BackupLog (``BackupJob``).
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
            the start, held by a lease the run renews, and updated after every stage; rows whose \
            lease ran out or whose process is gone are marked INTERRUPTED. With --restore-test, the \
            new snapshot is then restored into a sandbox from PRIMARY (or --restore-test-from) and \
            checked as by restore-test, and the result recorded in the row (exit 13 when it fails).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var progress: ProgressOptions

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
        let context = try repository.context(for: "run")
        var request = BackupJob.Request(source: source, type: type?.backupType, scheduleType: scheduleType)
        request.restoreTest = restoreTest
        request.restoreTestFrom = restoreTestFrom
        let options = repository
        request.walFetch = { location in try options.walRestoreCommand(at: location.path) }
        request.passphraseOrigin = repository.passphraseOrigin()
        let display = TerminalProgress(mode: progress.mode(json: output.json))
        let outcome = try await display.rendering { events in
            request.progress = events
            return try await BackupJob(context: context).run(request, passphrase: { try options.passphrase() })
        }
        let record = outcome.record
        if output.json {
            try JSONOutput.print(record)
        } else {
            print(LogCommand.line(record))
            for copy in record.locations {
                let pruned = copy.lastPrunedAt.map { "last pruned \(ISO8601.format($0).prefix(19))" } ?? "never pruned"
                print("  \(copy.location) \(copy.role.rawValue): \(copy.status.rawValue)\(copy.error.map { " (\($0))" } ?? ""); \(pruned)")
            }
            if record.restoreTest.tested {
                print("  restore test from \(record.restoreTest.location ?? "?"): \(record.restoreTest.result ?? "?") in \(String(format: "%.1f", record.restoreTest.durationSeconds ?? 0)) s: \(record.restoreTest.details ?? "")")
            }
        }
        if let test = outcome.restoreTest, !test.passed { throw RestorationTestFailure() }
        if !outcome.pendingLocations.isEmpty {
            FileHandle.standardError.write(Data("lifeboat: warning: the copy in \(outcome.pendingLocations.joined(separator: ", ")) is pending; the next run retries it\n".utf8))
            throw ExitCode(ExitStatus.partial.rawValue)
        }
    }
}

// SCHEDULED, MANUAL, ON_CHANGE on the command line, as the catalog spells them.
extension ScheduleType: ExpressibleByArgument {}
