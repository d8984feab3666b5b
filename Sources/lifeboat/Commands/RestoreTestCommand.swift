import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore

struct RestoreTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore-test",
        abstract: "Prove that a snapshot restores: restore it into a sandbox, check it, remove the sandbox.",
        discussion: """
            Files: restored into a scratch directory and every file read back against the \
            snapshot's blob ids. SQLite: restored to a scratch file, integrity_check and the row \
            counts against the snapshot's record. PostgreSQL: the base backup and the archived WAL \
            in a scratch cluster on a free 127.0.0.1 port with archiving off, started until \
            recovery ends; every table's rows are counted (or --query runs), then the cluster is \
            stopped. The sandbox is removed whatever happens. Exits 13 when the test fails. With \
            lifeboat.yaml, a source's name tests its newest snapshot, --location tests from any \
            location (a SECONDARY-only restore is proven too), and the result is recorded in the \
            BackupLog rows of the snapshot.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "A source of lifeboat.yaml (its newest snapshot), a snapshot id (any unique prefix) or 'latest'.")
    var snapshot: String = "latest"

    @Option(name: .long, help: "Test from this location of lifeboat.yaml instead of the repository.")
    var location: String?

    @Option(name: .long, help: "PostgreSQL: a query that must succeed in the restored cluster (its first value is reported).")
    var query: String?

    @Option(name: .long, help: "Where the sandbox is made (default: the temporary directory).")
    var scratch: String?

    func run() async throws {
        let config = try repository.configuration()
        let repo: Repository
        var locationName = config?.primary?.name
        var walLocation: String?
        if let location {
            guard let config else { throw CLIError("--location needs lifeboat.yaml (or --config)") }
            let l = try config.location(named: location)
            repo = try await Repository.open(backend: try config.backend(for: l), passphrase: try repository.passphrase())
            locationName = l.name
            walLocation = l.path
        } else {
            repo = try await repository.open()
            if repository.repo != nil || repository.environment["LIFEBOAT_REPOSITORY"] != nil { locationName = nil }
        }
        let entry: SnapshotEntry
        if let source = config?.sources.first(where: { $0.name == snapshot }) {
            let tag = "source:\(source.name)"
            guard let newest = try await repo.snapshots().last(where: { $0.snapshot.tags.contains(tag) }) else {
                throw CLIError("no snapshot of source '\(source.name)' in \(locationName ?? "the repository"): run 'lifeboat run \(source.name)' first")
            }
            entry = newest
        } else {
            entry = try await repo.findSnapshot(snapshot)
        }
        let walFetch = entry.snapshot.source.kind == "postgres" ? try repository.walFetchCommand(at: walLocation) : nil
        var report = try await Self.test(entry, in: repo, scratchDirectory: scratch ?? NSTemporaryDirectory(), query: query, restoreCommand: walFetch)
        if let config { report.recordedRows = await Self.record(report, in: config, location: locationName) }
        if output.json {
            try JSONOutput.print(report)
        } else {
            print("\(report.passed ? "PASSED" : "FAILED"): restore test of \(entry.snapshot.source.kind) snapshot \(entry.id.shortHex) in \(String(format: "%.1f", report.durationSeconds)) s: \(report.details)")
        }
        if !report.passed { throw RestorationTestFailure() }
    }

    /// Restores `entry` into a sandbox of `scratchDirectory`, runs its source's checks,
    /// and removes the sandbox whatever happens.
    static func test(
        _ entry: SnapshotEntry, in repo: Repository, scratchDirectory: String, query: String?, restoreCommand: (@Sendable (String) -> String)?
    ) async throws -> RestoreTestJSON {
        let clock = ContinuousClock()
        let start = clock.now
        var report = RestoreTestJSON(
            snapshotId: entry.id.hex, source: entry.snapshot.source.kind, sourceName: entry.snapshot.source.name, type: entry.snapshot.type.rawValue,
            passed: false, details: "", durationSeconds: 0, tableRows: [:], checkQueryResult: nil)
        switch entry.snapshot.source.kind {
        case "postgres":
            let result = try await PostgreSQLRestorationTest(repository: repo).run(
                entry, restoreCommand: restoreCommand ?? { _ in "false" }, scratchDirectory: scratchDirectory, checkQuery: query)
            report.passed = result.passed
            report.details = result.details
            report.tableRows = result.tableRows
            report.checkQueryResult = result.checkQueryResult
        case "sqlite":
            let sandbox = try Self.makeSandbox(in: scratchDirectory)
            defer { try? FileManager.default.removeItem(atPath: sandbox) }  // scratch only
            do {
                let result = try await DatabaseRestorer(repository: repo).restoreSQLite(entry, to: sandbox + "/restored.db", force: false)
                report.passed = true
                report.tableRows = result.facts.tableRows
                report.details = "integrity_check \(result.facts.checkResult); row counts of \(result.facts.tableRows.count) tables match the snapshot"
            } catch let error as SQLiteSourceError {
                report.details = error.description
            }
        default:
            let sandbox = try Self.makeSandbox(in: scratchDirectory)
            defer { try? FileManager.default.removeItem(atPath: sandbox) }  // scratch only
            var options = RestoreOptions(target: sandbox)
            options.verify = true
            let result = try await Restorer(repository: repo).restore(entry.snapshot, options: options)
            report.passed = result.isComplete && result.verificationFailures == 0
            report.details =
                report.passed
                ? "\(result.filesRestored) files restored and read back equal to the snapshot (\(ByteFormat.string(result.bytesWritten)))"
                : "\(result.verificationFailures) files differ, \(result.damagedFiles.count) damaged, \(result.errors.count) errors: \((result.damagedFiles + result.errors).prefix(3).joined(separator: "; "))"
        }
        let elapsed = clock.now - start
        report.durationSeconds = elapsed.seconds
        return report
    }

    /// Records the result in the BackupLog rows of the snapshot; returns how many. A catalog
    /// that cannot be written is a warning: the test's own result stands.
    static func record(_ report: RestoreTestJSON, in config: LifeboatConfiguration, location: String?) async -> Int {
        do {
            let rows = try await Catalog.using(try config.catalogLocation()) {
                try await $0.recordRestoreTest(
                    snapshotId: report.snapshotId, passed: report.passed, durationSeconds: report.durationSeconds, details: report.details, location: location)
            }
            if rows == 0 {
                FileHandle.standardError.write(Data("lifeboat: note: the catalog has no BackupLog row for snapshot \(report.snapshotId.prefix(8)) (run 'lifeboat catalog rebuild --from LOCATION' to add one)\n".utf8))
            }
            return rows
        } catch {
            FileHandle.standardError.write(Data("lifeboat: warning: the result was not recorded: \(error)\n".utf8))
            return 0
        }
    }

    static func makeSandbox(in folder: String) throws -> String {
        let path = folder + "/lifeboat-restore-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }
}

/// A restoration test that ran and failed (the report says why); exits 13.
struct RestorationTestFailure: Error, CustomStringConvertible {
    var description: String { "the restoration test failed" }
}

struct RestoreTestJSON: Encodable {
    let snapshotId: String
    let source: String
    let sourceName: String?
    let type: String
    var passed: Bool
    var details: String
    var durationSeconds: Double
    var tableRows: [String: Int64]
    var checkQueryResult: String?
    /// BackupLog rows the result was recorded in.
    var recordedRows = 0
}
