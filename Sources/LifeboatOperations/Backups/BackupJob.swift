import Foundation
import LifeboatCatalog
import LifeboatCore
import Synchronization

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

    /// How long the run's RUNNING row holds without a renewal. Only the tests change it (a
    /// test runner loaded enough to starve the renewals must not make a live run look gone).
    var leaseDuration: Duration = Catalog.defaultLease

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
        /// Where the passphrase comes from ("the file /etc/lifeboat/pass (passphrase: in /etc/lifeboat.yaml)"),
        /// for the record of a run it does not unlock; never the passphrase itself.
        public var passphraseOrigin: String?
        /// Who the BackupLog row says asked (default: the requester's user); the daemon writes
        /// `scheduler`, or `scheduler (catch-up)` for a slot missed while it was down.
        public var requestedBy: String?
        /// Called with the run's BackupLog id once its row is written and no other run of the
        /// source holds it: the API answers 202 with the row then, while the run goes on.
        public var started: (@Sendable (UUID) -> Void)?
        /// Receives the backup's progress events (files read); may drop them, never blocks it.
        public var progress: AsyncStream<BackupProgress>.Continuation?

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
    ///   it; ``BackupJobError/alreadyRunning(source:owner:startedAt:stage:)`` when another
    ///   run of the source is going on (nothing is recorded); a ``BackupPipeline/Failure``
    ///   when the pre-check or the backup failed; what opening PRIMARY threw (a wrong
    ///   passphrase, a location that is down); ``BackupInterruption`` when cancelled. Every
    ///   failure after the row is written is recorded in it (INTERRUPTED when cancelled).
    public func run(_ request: Request, passphrase: String) async throws -> Outcome {
        try await run(request, passphrase: { passphrase })
    }

    /// Runs the job; the passphrase is asked for once the run's row is written, so that
    /// a passphrase file that cannot be read is recorded as the run's failure too.
    /// - Parameter passphrase: the repository's passphrase; what it throws fails the run.
    /// - Throws: as the run with a passphrase given; ``BackupJobError/wrongPassphrase(origin:location:)``
    ///   when `request.passphraseOrigin` is set and the passphrase opens nothing.
    public func run(_ request: Request, passphrase: @escaping @Sendable () throws -> String) async throws -> Outcome {
        let config = context.configuration
        let source = try config.source(named: request.source)
        let primary = try config.requirePrimary()
        let testLocation = try request.restoreTestFrom.map { try config.location(named: $0) } ?? primary
        if let problem = source.kind.refuses(request.type, source: source.name) { throw ConfigurationError.invalid(at: config.file, problem) }
        let requester = context.requester
        var new = Catalog.NewBackup(
            type: request.type?.rawValue ?? "AUTO", scheduleType: request.scheduleType, source: source.name, sourceKind: source.kind,
            requestedBy: request.requestedBy ?? requester.username, owner: .current(host: requester.host))
        new.leaseDuration = leaseDuration
        let clock = context.clock
        let afterEachStage = self.afterEachStage
        let job = self
        let passphraseOrigin = request.passphraseOrigin
        let unlocked = PassphraseBox()
        var record = try await context.withCatalog { catalog in
            try await catalog.markInterrupted(host: requester.host)
            let recorder = try await BackupLogRecorder.begin(catalog, new, primary: primary.name)
            if let ahead = try await catalog.runsAhead(of: recorder.id).first {
                try await catalog.discard(recorder.id)
                throw BackupJobError.alreadyRunning(
                    source: source.name, owner: "pid \(ahead.pid) on \(ahead.host)", startedAt: ahead.startedAt, stage: ahead.stage)
            }
            request.started?(recorder.id)
            return try await recorder.run(leaseDuration: new.leaseDuration, progress: request.progress, clock: clock, afterEach: afterEachStage) {
                do {
                    let phrase = try passphrase()
                    unlocked.set(phrase)
                    return try await job.pipeline(for: request, source: source, primary: primary, passphrase: phrase)
                } catch let error as RepositoryError {
                    // The row says where the passphrase that opened nothing came from.
                    guard case .crypto(.wrongPassphrase) = error, let passphraseOrigin else { throw error }
                    throw BackupJobError.wrongPassphrase(origin: passphraseOrigin, location: primary.name)
                } catch let error as CryptoError {
                    guard error == .wrongPassphrase, let passphraseOrigin else { throw error }
                    throw BackupJobError.wrongPassphrase(origin: passphraseOrigin, location: primary.name)
                }
            }
        }
        var report: RestorationTest.Report?
        if request.restoreTest, let snapshot = record.snapshotId {
            let repository = try await context.repository(in: testLocation, passphrase: unlocked.value ?? passphrase())
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

    /// The pipeline of a run of `source`: PRIMARY opened, every other location ready to open.
    func pipeline(
        for request: Request, source: LifeboatConfiguration.Source, primary: LifeboatConfiguration.Location, passphrase: String
    ) async throws -> (BackupPipeline, BackupPipeline.Request) {
        let config = context.configuration
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
        return (pipeline, pipelineRequest)
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

/// The passphrase once the run has it, for the restoration test after it: asked for once,
/// not twice (a prompt would ask again). A class behind a Mutex: the run's preparation sets
/// it in a child task, the job reads it after.
private final class PassphraseBox: Sendable {
    private let stored = Mutex<String?>(nil)
    var value: String? { stored.withLock { $0 } }
    func set(_ value: String) { stored.withLock { $0 = value } }
}
