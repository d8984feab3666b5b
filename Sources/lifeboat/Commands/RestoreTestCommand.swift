import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

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
    @OptionGroup var latest: LatestIntactOptions

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
            let context = try repository.context(for: "--location")
            let l = try context.configuration.location(named: location)
            repo = try await context.repository(in: l, passphrase: try repository.passphrase())
            locationName = l.name
            walLocation = l.path
        } else {
            repo = try await repository.open()
            if repository.isRepositoryGivenDirectly { locationName = nil }
        }
        let entry: SnapshotEntry
        if let source = config?.sources.first(where: { $0.name == snapshot }) {
            try await latest.warnSkipped("latest", in: repo)
            guard let newest = try await RestorationTest.newestSnapshot(of: source.name, in: repo, latestIntact: latest.latestIntact) else {
                throw CLIError("no snapshot of source '\(source.name)' in \(locationName ?? "the repository"): run 'lifeboat run \(source.name)' first")
            }
            entry = newest
        } else {
            entry = try await latest.find(snapshot, in: repo)
        }
        var test = RestorationTest(repository: repo, scratchDirectory: scratch ?? NSTemporaryDirectory())
        test.query = query
        if entry.snapshot.source.kind == .postgres {
            let walFetch = try repository.walRestoreCommand(at: walLocation)
            test.walFetch = walFetch
            test.serverEnvironment = walFetch.serverEnvironment(from: repository.environment)
        }
        var report = try await test.run(entry)
        if config != nil { report.recordedRows = await record(report, location: locationName) }
        if output.json {
            try JSONOutput.print(report)
        } else {
            print("\(report.passed ? "PASSED" : "FAILED"): restore test of \(entry.snapshot.source.kind.rawValue) snapshot \(entry.id.shortHex) in \(String(format: "%.1f", report.durationSeconds)) s: \(report.details)")
            if let answer = report.checkQueryResult { print("query: \(query ?? "") -> \(answer)") }
        }
        if !report.passed { throw RestorationTestFailure() }
    }

    /// Records the result in the BackupLog rows of the snapshot; returns how many. A catalog
    /// that cannot be written is a warning: the test's own result stands.
    private func record(_ report: RestorationTest.Report, location: String?) async -> Int {
        do {
            let rows = try await repository.context(for: "restore-test").withCatalog {
                try await RestorationTest.record(report, in: $0, location: location)
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
}

/// A restoration test that ran and failed (the report says why); exits 13.
struct RestorationTestFailure: Error, CustomStringConvertible {
    var description: String { "the restoration test failed" }
}
