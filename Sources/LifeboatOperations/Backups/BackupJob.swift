import Foundation
import LifeboatCatalog
import LifeboatCore

/// A source's backup with its record: the whole pipeline (pre-check, backup to PRIMARY
/// with read-back, replication, retention) run for a source of lifeboat.yaml, recorded
/// stage by stage in its BackupLog row, then, when asked, a restoration test of the new
/// snapshot recorded in the same row. `lifeboat run`, the scheduler and the API's
/// `POST /api/backup/perform` all come here.
public struct BackupJob: Sendable {
    public let context: OperationsContext

    /// Called once each stage is recorded; what it throws stops the run as a crash would.
    /// Only the tests set it (`@testable import`): production code has no way in.
    var afterEachStage: @Sendable (BackupPipeline.Event) async throws -> Void = { _ in }

    /// Jobs on the sources and locations of `context`'s configuration.
    public init(context: OperationsContext) {
        self.context = context
    }

    public struct Request: Sendable {
        /// A source of lifeboat.yaml.
        public var source: String
        /// nil: INCREMENTAL when a parent exists, FULL otherwise.
        public var type: BackupType?
        public var scheduleType: ScheduleType = .manual
        /// Then prove the new snapshot restores, from `restoreTestFrom` (default PRIMARY).
        public var restoreTest = false
        public var restoreTestFrom: String?
        /// PostgreSQL restoration tests: how the scratch cluster fetches WAL from a location.
        public var walFetch: (@Sendable (LifeboatConfiguration.Location) throws -> WalRestoreCommand)?
        /// Who the BackupLog row says asked (default: the requester's user); the daemon writes
        /// `scheduler`, or `scheduler (catch-up)` for a slot missed while it was down.
        public var requestedBy: String?

        public init(source: String, type: BackupType? = nil, scheduleType: ScheduleType = .manual) {
            self.source = source
            self.type = type
            self.scheduleType = scheduleType
        }
    }

    public struct Outcome: Sendable {
        /// The BackupLog row as recorded, with the restoration test when there was one.
        public var record: BackupRecord
        public var restoreTest: RestorationTest.Report?
        /// Locations whose copy is still pending (down, unmounted): the next run retries them.
        public var pendingLocations: [String] { record.locations.filter { $0.status == .pending }.map(\.location) }
    }

    /// Runs the job.
    /// - Throws: ``ConfigurationError`` for an unknown source or a type that does not fit
    ///   it; a ``BackupPipeline/Failure`` when the pre-check or the backup failed (the row
    ///   says so too); CancellationError when cancelled (the row is left to its lease).
    public func run(_ request: Request, passphrase: String) async throws -> Outcome {
        let config = context.configuration
        let source = try config.source(named: request.source)
        let primary = try config.requirePrimary()
        let testLocation = try request.restoreTestFrom.map { try config.location(named: $0) } ?? primary
        if let problem = source.kind.refuses(request.type, source: source.name) { throw ConfigurationError.invalid(at: config.file, problem) }
        let pipelineSource = try pipelineSource(source)
        let primaryRepository = try await context.repository(in: primary, passphrase: passphrase)
        let backends = context.backends
        let others = try config.locations.filter { $0.role != .primary }.map { l in
            BackupPipeline.Location(
                name: l.name, role: l.role, medium: l.medium, retention: try config.retentionPolicy(of: l),
                replicates: l.role != .airGapped, open: { try await backends.backend(for: l, create: true) })
        }
        var pipeline = BackupPipeline(primary: primaryRepository, primaryName: primary.name, locations: others, passphrase: passphrase)
        pipeline.primaryRetention = try config.retentionPolicy(of: primary)
        let requester = context.requester
        var pipelineRequest = BackupPipeline.Request(
            sourceName: source.name, source: pipelineSource, type: request.type, host: requester.host, username: requester.username)
        pipelineRequest.programVersion = context.programVersion
        let new = Catalog.NewBackup(
            type: request.type?.rawValue ?? "AUTO", scheduleType: request.scheduleType, source: source.name, sourceKind: source.kind,
            requestedBy: request.requestedBy ?? requester.username, owner: .current(host: requester.host))
        let clock = context.clock
        let afterEachStage = self.afterEachStage
        var record = try await context.withCatalog { catalog in
            try await catalog.markInterrupted(host: requester.host)
            return try await BackupLogRecorder.run(pipeline, pipelineRequest, in: catalog, as: new, clock: clock, afterEach: afterEachStage)
        }
        var report: RestorationTest.Report?
        if request.restoreTest, let snapshot = record.snapshotId {
            let repository = try await context.repository(in: testLocation, passphrase: passphrase)
            let entry = try await repository.findSnapshot(snapshot)
            var test = RestorationTest(repository: repository)
            test.clock = clock
            if entry.snapshot.source.kind == .postgres {
                guard let walFetch = try request.walFetch?(testLocation) else { throw PostgreSQLSourceError.needsPasswordFile }
                test.walFetch = walFetch
                test.serverEnvironment = walFetch.serverEnvironment(from: context.secrets.environment)
            }
            let result = try await test.run(entry)
            report = result
            let id = record.id
            let recorded = record
            do {
                record = try await context.withCatalog { catalog in
                    _ = try await RestorationTest.record(result, in: catalog, location: testLocation.name)
                    return try await catalog.backup(id: id) ?? recorded
                }
            } catch {
                // The test's own result stands and is returned; only its record is missing.
                context.logger.warning("the restoration test's result was not recorded: \(error)", metadata: ["snapshot": "\(snapshot.prefix(8))"])
            }
        }
        return Outcome(record: record, restoreTest: report)
    }

    /// The pipeline's view of a configured source; a database password is looked up here
    /// and travels with the connection.
    func pipelineSource(_ source: LifeboatConfiguration.Source) throws -> BackupPipeline.Source {
        switch source.kind {
        case .files: return .files(paths: source.paths ?? [], excludes: source.exclude ?? [])
        case .sqlite: return .sqlite(path: source.path ?? "")
        case .postgres:
            let password = try context.secrets.secret(environment: source.passwordEnv, file: source.passwordFile, for: "source '\(source.name)'")
            var pg = PostgreSQLSource(url: source.url ?? "", password: password)
            pg.amcheckIndexes = source.amcheckIndexes ?? []
            return .postgres(pg, dataDirectory: source.pgdata)
        }
    }
}
