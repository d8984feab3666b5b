import Foundation
import LifeboatCatalog
import LifeboatCore
import Logging

/// The daemon's side of the ``Scheduler``: runs what it hands over (a backup job with its
/// BackupLog row, a FULL followed by its restoration test; a prune of PRIMARY after its
/// retention) and tells it, from the catalog, when each job last ran.
public struct ScheduledJobs: Sendable {
    public var context: OperationsContext
    public var passphrase: String
    /// PostgreSQL restoration tests: how the scratch cluster fetches WAL from a location.
    public var walFetch: (@Sendable (LifeboatConfiguration.Location) throws -> WalRestoreCommand)?

    public init(context: OperationsContext, passphrase: String) {
        self.context = context
        self.passphrase = passphrase
    }

    /// How a run ended, for logs and metrics.
    public struct Outcome: Sendable {
        public var run: ScheduledRun
        public var record: BackupRecord?
        public var error: String?
        public var duration: Duration
    }

    /// Runs one job to its end. Errors are logged, not thrown: the BackupLog row carries a
    /// backup's failure, and the schedule goes on either way.
    public func perform(_ run: ScheduledRun) async -> Outcome {
        let logger = context.logger
        let started = ContinuousClock.now
        var outcome = Outcome(run: run, duration: .zero)
        logger.info("starting \(run)", metadata: ["slot": "\(ISO8601DateFormatter().string(from: run.slot))"])
        do {
            switch run.job {
            case .backup(let source, let type):
                var request = BackupJob.Request(source: source, type: type, scheduleType: run.scheduleType)
                request.restoreTest = run.restorationTest
                request.walFetch = walFetch
                request.requestedBy = run.isCatchUp ? "scheduler (catch-up)" : "scheduler"
                let result = try await BackupJob(context: context).run(request, passphrase: passphrase)
                outcome.record = result.record
                if let test = result.restoreTest, !test.passed {
                    outcome.error = "the restoration test of the new snapshot failed"
                }
            case .prune:
                try await prune()
            }
        } catch {
            outcome.error = "\(error)"
        }
        outcome.duration = ContinuousClock.now - started
        if let error = outcome.error {
            logger.error("\(run) failed: \(error)")
        } else {
            logger.info("\(run) done in \(String(format: "%.1f", outcome.duration.seconds)) s")
        }
        return outcome
    }

    /// Forgets by PRIMARY's retention (when it has one) and prunes what nothing refers to.
    func prune() async throws {
        let config = context.configuration
        let primary = try config.requirePrimary()
        let repository = try await context.repository(in: primary, passphrase: passphrase)
        let requester = context.requester
        if let policy = try config.retentionPolicy(of: primary) {
            let outcome = try await ForgetOperation(requester: requester).run(repository, selection: .policy(policy, SnapshotFilter()), dryRun: false, prune: true)
            let forgotten = outcome.plan.forgotten.map { $0.id.hex }
            try await context.withCatalog { try await $0.markForgotten(location: primary.name, snapshots: forgotten) }
            if outcome.prune == nil { _ = try await Pruner(repository: repository).prune(dryRun: false, host: requester.host, username: requester.username) }
        } else {
            _ = try await Pruner(repository: repository).prune(dryRun: false, host: requester.host, username: requester.username)
        }
    }

    /// When each backup job last succeeded (its start), from the BackupLog, whatever its
    /// schedule type: a backup is a backup. A run that failed or was interrupted did not serve
    /// its slot, so the next start runs it again (once). Prunes leave no row: a prune missed
    /// while down waits for its next slot.
    public func lastRuns() async throws -> [ScheduleEntry.Job: Date] {
        let records = try await context.withCatalog { catalog in
            try await catalog.markInterrupted(host: context.requester.host)
            return try await catalog.backups()
        }
        var last: [ScheduleEntry.Job: Date] = [:]
        for record in records where record.status == .succeeded {
            guard let type = BackupType(rawValue: record.type) else { continue }
            let job = ScheduleEntry.Job.backup(source: record.source, type: type)
            last[job] = max(last[job] ?? record.startedAt, record.startedAt)
        }
        return last
    }
}
