import Foundation
import LifeboatCatalog
import LifeboatCore
import Logging

/// The daemon's side of the ``Scheduler``: runs what it hands over (a backup job with its
/// BackupLog row, a FULL followed by its restoration test; a prune of PRIMARY after its
/// retention; a drill, a TEST-mode execution of a recovery plan as `lifeboat recover run
/// --test` makes) and tells it, from the catalog, when each job last ran and which plans
/// are drilled how often.
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
            case .drill(let plan):
                let record = try await drill(plan, requestedBy: run.isCatchUp ? "scheduler (catch-up)" : "scheduler")
                if record.status != .succeeded && record.status != .succeededWithWarnings {
                    outcome.error = "the drill ended \(record.status.rawValue): \(record.error ?? "see `lifeboat recover status \(record.id)`")"
                }
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

    /// Forgets by PRIMARY's retention (when it has one) and prunes what nothing refers to;
    /// records the prune (or its failure) in the catalog, where ``lastRuns()`` finds it, so
    /// that a prune missed while the daemon was down is caught up like a backup.
    func prune() async throws {
        let config = context.configuration
        let primary = try config.requirePrimary()
        do {
            let report = try await forgetAndPrune(primary)
            let record = LocationPrune(
                location: primary.name, prunedAt: Date(), packsDeleted: report.packsDeleted + report.unindexedPacksDeleted,
                bytesFreed: max(0, report.bytesBefore - report.bytesAfter) + report.walBytesDeleted, error: nil)
            try await context.withCatalog { try await $0.recordPrune(record) }
        } catch {
            let failed = LocationPrune(location: primary.name, prunedAt: Date(), packsDeleted: 0, bytesFreed: 0, error: "\(error)")
            // The prune's own error is the one to report; a catalog away as well is logged only.
            do { try await context.withCatalog { try await $0.recordPrune(failed) } } catch { context.logger.warning("the failed prune was not recorded: \(error)") }
            throw error
        }
    }

    private func forgetAndPrune(_ primary: LifeboatConfiguration.Location) async throws -> Pruner.Report {
        let config = context.configuration
        let repository = try await context.repository(in: primary, passphrase: passphrase)
        let requester = context.requester
        if let policy = try config.retentionPolicy(of: primary) {
            let outcome = try await ForgetOperation(requester: requester).run(repository, selection: .policy(policy, SnapshotFilter()), dryRun: false, prune: true)
            let forgotten = outcome.plan.forgotten.map { $0.id.hex }
            try await context.withCatalog { try await $0.markForgotten(location: primary.name, snapshots: forgotten) }
            if let report = outcome.prune { return report }
        }
        return try await Pruner(repository: repository).prune(dryRun: false, host: requester.host, username: requester.username)
    }

    /// A drill: a TEST-mode execution of the plan's newest revision, run to its end (a
    /// cancellation leaves it INTERRUPTED, as `recover run --test` interrupted does).
    func drill(_ plan: String, requestedBy: String) async throws -> RecoveryExecutionRecord {
        var executor = RecoveryExecutor(context: context)
        executor.walFetch = walFetch
        let id = try await executor.start(.init(plan: plan, mode: .test, user: requestedBy))
        let passphrase = self.passphrase
        let logger = context.logger
        return try await executor.run(
            id, passphrase: { passphrase },
            events: { event in
                if case .waitingForApproval(let step) = event {
                    logger.warning("drill of \(plan) waits for an approval: lifeboat recover approve \(id.uuidString.lowercased()) \(step)")
                }
            })
    }

    /// A drill entry per stored plan with `testing: every`, from the catalog (plans live
    /// there, not in lifeboat.yaml). A stored plan that no longer parses is skipped with a
    /// warning: the other plans are still drilled.
    public func drillEntries() async throws -> [ScheduleEntry] {
        let stored = try await context.withCatalog { try await $0.latestPlans() }
        var entries: [ScheduleEntry] = []
        for revision in stored.sorted(by: { $0.name < $1.name }) {
            do {
                guard let testing = try RecoveryPlans.plan(of: revision).testing else { continue }
                entries.append(ScheduleEntry(job: .drill(plan: revision.name), every: testing.every.duration))
            } catch {
                context.logger.warning("plan '\(revision.name)' is not drilled: \(error)")
            }
        }
        return entries
    }

    /// When each backup job last succeeded (its start), from the BackupLog, whatever its
    /// schedule type: a backup is a backup; and when each plan's last drill that succeeded
    /// started; and when each location was last pruned (by the daemon, `run`'s retention or
    /// `prune`). A run that failed or was interrupted did not serve its slot, so the next start
    /// runs it again (once).
    public func lastRuns() async throws -> [ScheduleEntry.Job: Date] {
        let (records, executions, prunes) = try await context.withCatalog { catalog in
            try await catalog.markInterrupted(host: context.requester.host)
            return (try await catalog.backups(), try await catalog.executions(), try await catalog.lastPrunes())
        }
        var last: [ScheduleEntry.Job: Date] = [:]
        for record in records where record.status == .succeeded {
            guard let type = BackupType(rawValue: record.type) else { continue }
            let job = ScheduleEntry.Job.backup(source: record.source, type: type)
            last[job] = max(last[job] ?? record.startedAt, record.startedAt)
        }
        for execution in executions where execution.mode == .test && (execution.status == .succeeded || execution.status == .succeededWithWarnings) {
            let job = ScheduleEntry.Job.drill(plan: execution.plan)
            let started = execution.startedAt ?? execution.createdAt
            last[job] = max(last[job] ?? started, started)
        }
        for (location, prune) in prunes { last[.prune(repository: location)] = prune.prunedAt }
        return last
    }
}
