import Foundation
import LifeboatCatalog
import LifeboatCore

/// The automated restoration test (DESIGN §1.3: "restorable" only after a restore test
/// passed): a snapshot is restored into a sandbox, checked the way its source is checked,
/// and the sandbox removed whatever happens. Files are read back against their blob ids;
/// a SQLite file passes integrity_check and matches the recorded row counts; a PostgreSQL
/// base backup recovers in a scratch cluster on a free loopback port.
public struct RestorationTest: Sendable {
    public let repository: Repository
    /// Where the sandbox is made (it needs the snapshot's size).
    public var scratchDirectory: String
    /// PostgreSQL: a query that must succeed in the restored cluster.
    public var query: String?
    /// PostgreSQL: how the scratch cluster fetches archived WAL.
    public var walFetch: WalRestoreCommand?
    /// PostgreSQL: the environment the scratch server's `restore_command` needs.
    public var serverEnvironment: [String: String] = [:]
    public var clock: any Clock<Duration> = ContinuousClock()

    /// A test of snapshots in `repository`, with sandboxes made in `scratchDirectory`.
    public init(repository: Repository, scratchDirectory: String = NSTemporaryDirectory()) {
        self.repository = repository
        self.scratchDirectory = scratchDirectory
    }

    /// What one test found.
    public struct Report: Sendable, Codable {
        public let snapshotId: String
        /// The configured source's name (its snapshot's `source:NAME` tag); nil for a snapshot
        /// of a plain `lifeboat backup`.
        public let source: String?
        public let sourceKind: SourceKind
        /// What the snapshot names as backed up: the database file, the data directory.
        public let sourcePath: String?
        public let type: String
        public var passed: Bool
        public var details: String
        public var durationSeconds: Double
        public var tableRows: [String: Int64]
        public var checkQueryResult: String?
        /// BackupLog rows the result was recorded in.
        public var recordedRows = 0
    }

    /// Restores `entry` into a sandbox, runs its source's checks, and removes the sandbox.
    /// - Throws: what stopped the test from running at all (a repository that cannot be
    ///   read); a restore that ran and failed is a report with `passed` false.
    public func run(_ entry: SnapshotEntry) async throws -> Report {
        var report: Report?
        let elapsed = try await clock.measure { report = try await runChecks(entry) }
        guard var report else { preconditionFailure("runChecks returns or throws") }
        report.durationSeconds = elapsed.seconds
        return report
    }

    private func runChecks(_ entry: SnapshotEntry) async throws -> Report {
        var report = Report(
            snapshotId: entry.id.hex, source: entry.snapshot.sourceName, sourceKind: entry.snapshot.source.kind, sourcePath: entry.snapshot.source.name, type: entry.snapshot.type.rawValue,
            passed: false, details: "", durationSeconds: 0, tableRows: [:], checkQueryResult: nil)
        switch entry.snapshot.source.kind {
        case .postgres:
            guard let walFetch else { throw PostgreSQLSourceError.needsPasswordFile }
            let result = try await PostgreSQLRestorationTest(repository: repository).run(
                entry, restoreCommand: walFetch.restoreCommand, scratchDirectory: scratchDirectory, checkQuery: query, serverEnvironment: serverEnvironment)
            report.passed = result.passed
            report.details = result.details
            report.tableRows = result.tableRows
            report.checkQueryResult = result.checkQueryResult
        case .sqlite:
            let sandbox = try makeSandbox()
            defer { try? FileManager.default.removeItem(atPath: sandbox) }  // scratch only
            do {
                let result = try await DatabaseRestorer(repository: repository).restoreSQLite(entry, to: sandbox + "/restored.db", force: false)
                report.passed = true
                report.tableRows = result.facts.tableRows
                report.details = "integrity_check \(result.facts.checkResult); row counts of \(result.facts.tableRows.count) tables match the snapshot"
            } catch let error as SQLiteSourceError {
                report.details = error.description
            }
        case .files:
            let sandbox = try makeSandbox()
            defer { try? FileManager.default.removeItem(atPath: sandbox) }  // scratch only
            var options = RestoreOptions(target: sandbox)
            options.verify = true
            let result = try await Restorer(repository: repository).restore(entry.snapshot, options: options)
            report.passed = result.isComplete && result.verificationFailures == 0
            report.details =
                report.passed
                ? "\(result.filesRestored) files restored and read back equal to the snapshot (\(ByteFormat.string(result.bytesWritten)))"
                : "\(result.verificationFailures) files differ, \(result.damagedFiles.count) damaged, \(result.errors.count) errors: \((result.damagedFiles + result.errors).prefix(3).joined(separator: "; "))"
        }
        return report
    }

    private func makeSandbox() throws -> String {
        let path = scratchDirectory + "/lifeboat-restore-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    /// The newest snapshot of a configured source (tagged `source:NAME` by its runs).
    /// - Throws: ``RepositoryError/damagedSnapshotsSkipped(_:newestIntact:)`` when a snapshot is
    ///   damaged (it may be the newest of the source) and `latestIntact` is false.
    public static func newestSnapshot(of source: String, in repository: Repository, latestIntact: Bool = false) async throws -> SnapshotEntry? {
        try await repository.intactSnapshots(latestIntact: latestIntact).last { $0.snapshot.sourceName == source }
    }

    /// Records a report in the BackupLog rows of its snapshot; returns how many rows.
    public static func record(_ report: Report, in catalog: Catalog, location: String?) async throws -> Int {
        try await catalog.recordRestoreTest(
            snapshotId: report.snapshotId, passed: report.passed, durationSeconds: report.durationSeconds, details: report.details, location: location)
    }
}
