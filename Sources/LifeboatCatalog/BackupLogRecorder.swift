import Foundation
import LifeboatCore

/// Writes a ``BackupPipeline`` run into its BackupLog row, one stage at a time, so that a
/// crash leaves the row at the last stage that finished. While the run goes on, its
/// lease is renewed every third of its duration; once it stops being renewed (the process
/// or the job died) a later ``Catalog/markInterrupted(host:at:)`` marks it INTERRUPTED.
public struct BackupLogRecorder: Sendable {
    public let catalog: Catalog
    public let id: UUID
    /// The PRIMARY location's name, as its copy rows are named.
    public let primary: String

    /// Runs the pipeline with its BackupLog row: RUNNING first, each stage recorded as it
    /// ends, the failure when one stops it. Returns the row as recorded.
    /// - Parameters:
    ///   - clock: paces the lease renewals.
    ///   - afterEach: called once each stage is recorded; what it throws stops the run as a
    ///     crash would, with nothing more recorded and the lease left to expire (the crash
    ///     tests' way in).
    public static func run(
        _ pipeline: BackupPipeline, _ request: BackupPipeline.Request, in catalog: Catalog, as new: Catalog.NewBackup,
        progress: AsyncStream<BackupProgress>.Continuation? = nil, clock: any Clock<Duration> = ContinuousClock(),
        afterEach: @escaping @Sendable (BackupPipeline.Event) async throws -> Void = { _ in }
    ) async throws -> BackupRecord {
        let recorder = try await begin(catalog, new, primary: pipeline.primaryName)
        return try await recorder.run(leaseDuration: new.leaseDuration, progress: progress, clock: clock, afterEach: afterEach) {
            (pipeline, request)
        }
    }

    /// Runs the pipeline that `prepare` sets up in this recorder's RUNNING row, renewing its
    /// lease from the start: what fails while preparing (a passphrase that opens nothing, a
    /// PRIMARY that is down) is the run's failure and is recorded as one, as is every stage's.
    /// A cancelled run is recorded INTERRUPTED and throws a ``BackupInterruption``. Returns
    /// the row as recorded.
    /// - Parameters:
    ///   - leaseDuration: the lease the row was begun with; renewed every third of it.
    ///   - clock: paces the lease renewals.
    ///   - afterEach: called once each stage is recorded; what it throws stops the run as a
    ///     crash would, with nothing more recorded and the lease left to expire.
    ///   - prepare: opens what the run needs and returns the pipeline and its request.
    public func run(
        leaseDuration: Duration = Catalog.defaultLease, progress: AsyncStream<BackupProgress>.Continuation? = nil,
        clock: any Clock<Duration> = ContinuousClock(),
        afterEach: @escaping @Sendable (BackupPipeline.Event) async throws -> Void = { _ in },
        prepare: @escaping @Sendable () async throws -> (BackupPipeline, BackupPipeline.Request)
    ) async throws -> BackupRecord {
        let recorder = self
        let catalog = self.catalog
        do {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    let (pipeline, request) = try await prepare()
                    let copies = pipeline.locations.filter(\.replicates).map { Copy(name: $0.name, role: $0.role) }
                    try await pipeline.run(request, progress: progress) { event in
                        try await recorder.record(event, locations: copies)
                        do {
                            try await afterEach(event)
                        } catch {
                            throw Stopped(underlying: error)
                        }
                    }
                    return true
                }
                group.addTask {
                    while true {
                        try await clock.sleep(for: leaseDuration / 3)
                        // A renewal that fails is tried again at the next tick; the lease has
                        // two more thirds to run before anyone may call the run interrupted.
                        try? await catalog.renewLease(recorder.id, for: leaseDuration)
                    }
                }
                // The first to finish is the pipeline (the heartbeat never returns): stop the heartbeat.
                _ = try await group.next()
                group.cancelAll()
            }
        } catch let stopped as Stopped {
            throw stopped.underlying
        } catch {
            let underlying = (error as? BackupPipeline.Failure)?.underlying ?? error
            if Task.isCancelled || underlying is CancellationError {
                // Told as what the run leaves, as its row tells it; a row that cannot be
                // written is left to its lease (the interruption matters more).
                throw (try? await recorder.interrupted()) ?? BackupInterruption()
            }
            try? await recorder.failed(error)  // the original error matters more than a second one
            throw error
        }
        guard let record = try await catalog.backup(id: recorder.id) else { throw CatalogError.notFound("BackupLog row \(recorder.id)") }
        return record
    }

    /// What `afterEach` threw: passed on without being recorded as the run's failure.
    private struct Stopped: Error {
        let underlying: any Error
    }

    /// Writes the RUNNING row.
    public static func begin(_ catalog: Catalog, _ new: Catalog.NewBackup, primary: String) async throws -> BackupLogRecorder {
        BackupLogRecorder(catalog: catalog, id: try await catalog.begin(new), primary: primary)
    }

    /// A location other than PRIMARY that the run copies to.
    struct Copy: Sendable {
        var name: String
        var role: LocationRole
    }

    /// - Parameter locations: the other locations a run copies to; their copies start
    ///   PENDING when the snapshot is written.
    func record(_ event: BackupPipeline.Event, locations: [Copy]) async throws {
        let now = Date()
        switch event {
        case .preCheck(let outcome):
            try await catalog.update(id) { m in
                m.stage = BackupPipeline.Stage.preCheck.rawValue
                m.preCheckPassed = outcome.passed
                m.preCheckDetails = outcome.details
                if !outcome.passed {
                    m.status = BackupStatus.failedPreCheck.rawValue
                    m.error = outcome.details
                    m.finishedAt = now
                }
            }
        case .backedUp(let result):
            let s = result.snapshot
            try await catalog.update(id) { m in
                m.stage = BackupPipeline.Stage.backup.rawValue
                m.type = s.type.rawValue
                m.snapshotID = result.snapshotID.hex
                m.bytesRead = s.statistics.bytesRead
                m.bytesAdded = s.statistics.bytesAdded
                m.files = s.statistics.filesNew + s.statistics.filesChanged + s.statistics.filesUnmodified
                m.dataKeyID = s.dataKey.hex
                m.checksum = s.tree.hex
                if let pre = s.checks.pre, m.preCheckPassed == nil {
                    m.preCheckPassed = pre.passed
                    m.preCheckDetails = pre.details
                }
                m.postCheckPassed = s.checks.post?.passed
                m.postCheckDetails = s.checks.post?.details
            }
            try await catalog.setCopy(id, location: primary, role: .primary, status: .verified, verifiedAt: now, error: nil)
            for l in locations {
                try await catalog.setCopy(id, location: l.name, role: l.role, status: .pending, verifiedAt: nil, error: nil)
            }
        case .replicated(let r):
            try await catalog.update(id) { $0.stage = BackupPipeline.Stage.replication.rawValue }
            if let error = r.error {
                try await catalog.setCopy(id, location: r.name, role: r.role, status: .pending, verifiedAt: nil, error: "\(error)")
            } else {
                // This run's copy and any earlier run's pending copy that has now arrived.
                try await catalog.settlePendingCopies(location: r.name, snapshotsPresent: Set(r.snapshotsPresent.map(\.hex)), at: now)
            }
        case .retained(let r):
            try await catalog.update(id) { $0.stage = BackupPipeline.Stage.retention.rawValue }
            try await catalog.markForgotten(location: r.location, snapshots: r.forgotten.map(\.hex))
            if let report = r.prune {
                try await catalog.recordPrune(
                    LocationPrune(
                        location: r.location, prunedAt: now, packsDeleted: report.packsDeleted + report.unindexedPacksDeleted,
                        bytesFreed: max(0, report.bytesBefore - report.bytesAfter) + report.walBytesDeleted, error: nil))
            } else if let error = r.pruneError {
                try await catalog.recordPrune(LocationPrune(location: r.location, prunedAt: now, packsDeleted: 0, bytesFreed: 0, error: "\(error)"))
            }
        case .finished:
            try await catalog.update(id) { m in
                m.stage = BackupPipeline.Stage.finished.rawValue
                m.status = BackupStatus.succeeded.rawValue
                m.finishedAt = now
            }
        }
    }

    /// The run was cancelled (Ctrl-C, a stop signal, a daemon shutting down): INTERRUPTED,
    /// with what it leaves. Returns the interruption.
    @discardableResult
    func interrupted() async throws -> BackupInterruption {
        let now = Date()
        let row = try await catalog.backup(id: id)
        let interruption = BackupInterruption(stage: row?.stage, snapshot: row?.snapshotId)
        try await catalog.update(id) { m in
            m.status = BackupStatus.interrupted.rawValue
            m.error = interruption.description
            m.finishedAt = now
        }
        return interruption
    }

    /// The run stopped: FAILED_PRECHECK, FAILED_VERIFICATION or FAILED, with the error.
    func failed(_ error: any Error) async throws {
        let now = Date()
        let status: BackupStatus
        if error is CancellationError {
            // Cancelled by its owner (the daemon's grace period ran out): the run did not fail,
            // it was stopped, and what it wrote is only unreferenced objects.
            try await catalog.update(id) { m in
                m.status = BackupStatus.interrupted.rawValue
                m.error = "the run was cancelled after stage \(m.stage ?? "start") (the daemon stopped); the next run starts over"
                m.finishedAt = now
            }
            return
        }
        if let failure = error as? BackupPipeline.Failure {
            status = failure.stage == .preCheck ? .failedPreCheck : failure.isVerificationFailure ? .failedVerification : .failed
        } else {
            status = .failed
        }
        let text = (error as? BackupPipeline.Failure).map { "\($0.underlying)" } ?? "\(error)"
        try await catalog.update(id) { m in
            m.status = status.rawValue
            m.error = text
            m.finishedAt = now
            if status == .failedVerification { m.postCheckPassed = false; m.postCheckDetails = text }
        }
    }
}
