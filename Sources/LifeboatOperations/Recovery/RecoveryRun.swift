import Foundation
import LifeboatCatalog
import LifeboatCore
import Synchronization

/// One executor's drive of one execution, from its claim to its end: the steps as a
/// graph, each attempt saved before and after, the lease renewed and cancel requests
/// looked for while it goes, the objectives measured at the end.
struct RecoveryRun: Sendable {
    let executor: RecoveryExecutor
    let catalog: Catalog
    let record: RecoveryExecutionRecord
    let plan: RecoveryPlan
    let passphrase: @Sendable () throws -> String
    let events: @Sendable (RecoveryEvent) -> Void
    let sandbox: RecoverySandbox?
    /// Set once a `recover cancel` was seen: steps stopped then are CANCELLED, not left to resume.
    let cancelSeen = SharedFlag()

    init(
        executor: RecoveryExecutor, catalog: Catalog, record: RecoveryExecutionRecord, plan: RecoveryPlan,
        passphrase: @escaping @Sendable () throws -> String, events: @escaping @Sendable (RecoveryEvent) -> Void
    ) {
        self.executor = executor
        self.catalog = catalog
        self.record = record
        self.plan = plan
        self.passphrase = passphrase
        self.events = events
        sandbox = record.mode == .test ? record.sandbox.map(RecoverySandbox.init(path:)) ?? RecoverySandbox(scratch: executor.scratchDirectory, execution: record.id) : nil
    }

    var id: UUID { record.id }
    var now: Date { executor.now() }

    /// Runs every unfinished step and records the end.
    mutating func drive() async throws -> RecoveryExecutionRecord {
        if let sandbox {
            try sandbox.create()
            var change = Catalog.ExecutionChange()
            change.sandbox = sandbox.path
            try await catalog.updateExecution(id, change)
        }
        let outcome: [String: RecoveryStepStatus]
        do {
            outcome = try await withThrowingTaskGroup(of: [String: RecoveryStepStatus]?.self) { group in
                let run = self
                group.addTask { try await run.schedule() }
                group.addTask {
                    try await run.watch()
                    return nil
                }
                // The scheduler ends first unless a cancel was requested (then the watcher throws).
                guard let done = try await group.next() ?? nil else { preconditionFailure("the watcher only ends by throwing") }
                group.cancelAll()
                return done
            }
        } catch {
            return try await stopped(by: error)
        }
        return try await finish(outcome)
    }

    // MARK: Scheduling

    /// Runs the graph: each step once its predecessors finished; after a critical failure no
    /// new step starts (those running finish). Returns every step's status.
    func schedule() async throws -> [String: RecoveryStepStatus] {
        let graph = RecoveryGraph(plan.steps)
        var statuses = Dictionary(uniqueKeysWithValues: record.steps.map { ($0.name, $0.status) })
        let steps = Dictionary(uniqueKeysWithValues: plan.steps.map { ($0.name, $0) })
        var failedCritical = statuses.contains { $0.value == .failed && steps[$0.key]?.isCritical == true }
        try await withThrowingTaskGroup(of: (String, RecoveryStepStatus).self) { group in
            var running = Set<String>()
            func launch() {
                guard !failedCritical else { return }
                let finished = Set(statuses.filter { $0.value.isFinished }.map(\.key))
                for name in graph.ready(finished: finished, started: running) {
                    guard let step = steps[name] else { continue }
                    running.insert(name)
                    let run = self
                    let previous = record.step(name)
                    group.addTask { (name, try await run.runStep(step, previous: previous)) }
                }
            }
            launch()
            while let (name, status) = try await group.next() {
                running.remove(name)
                statuses[name] = status
                if status == .failed, steps[name]?.isCritical == true { failedCritical = true }
                launch()
            }
        }
        return statuses
    }

    /// Renews the lease and looks for a cancel request, every poll interval, until cancelled.
    func watch() async throws {
        let clock = executor.context.clock
        var sinceRenewal = Duration.zero
        while true {
            try await clock.sleep(for: executor.pollInterval)
            sinceRenewal += executor.pollInterval
            var change = Catalog.ExecutionChange()
            if sinceRenewal >= executor.leaseDuration / 3 {
                change.leaseExpiresAt = now.addingTimeInterval(executor.leaseDuration.seconds)
                sinceRenewal = .zero
            }
            let row: RecoveryExecutionRecord
            do {
                row = try await catalog.updateExecution(id, change)
            } catch let error as CatalogError {
                // Tried again at the next tick: the lease has two more thirds to run.
                executor.context.logger.warning("recovery execution \(id): the lease was not renewed: \(error)")
                continue
            }
            if row.cancelRequested {
                cancelSeen.set()
                throw RecoveryError.cancelled(id)
            }
        }
    }

    // MARK: Ends

    /// Every step ran or was skipped: the execution's status, objectives and end.
    private func finish(_ statuses: [String: RecoveryStepStatus]) async throws -> RecoveryExecutionRecord {
        let steps = Dictionary(uniqueKeysWithValues: plan.steps.map { ($0.name, $0) })
        let failedCritical = statuses.contains { $0.value == .failed && steps[$0.key]?.isCritical == true }
        for (name, status) in statuses where !status.isFinished {
            try await catalog.updateStep(id, name, change(status: .skipped, log: "not run: a critical step failed before it\n"))
            events(.stepFinished(step: name, status: .skipped, detail: "a critical step failed before it"))
        }
        let status: RecoveryExecutionStatus =
            failedCritical ? .failed : statuses.values.contains(.failed) ? .succeededWithWarnings : .succeeded
        let end = now
        let after = try await catalog.execution(id: id) ?? record
        var change = Catalog.ExecutionChange()
        change.status = status
        change.finishedAt = end
        change.clearsError = true
        if failedCritical {
            let failed = plan.steps.filter { statuses[$0.name] == .failed && $0.isCritical }.map(\.name)
            change.error = "critical step \(failed.joined(separator: ", ")) failed"
        } else {
            let objectives = RecoveryObjectives(record: after, plan: plan, end: end)
            change.rtoAchievedSeconds = objectives.rtoAchievedSeconds
            change.rpoAchievedSeconds = objectives.rpoAchievedSeconds
            change.restorePoint = objectives.restorePoint
        }
        sandbox?.remove()
        return try await catalog.updateExecution(id, change)
    }

    /// The run stopped before its end: cancelled by `recover cancel` (CANCELLED, sandbox
    /// removed), or interrupted by its caller (INTERRUPTED, left to resume).
    private func stopped(by error: any Error) async throws -> RecoveryExecutionRecord {
        let end = now
        var change = Catalog.ExecutionChange()
        change.finishedAt = end
        if cancelSeen.isSet {
            change.status = .cancelled
            change.error = "cancelled by 'recover cancel'"
            let after = try await catalog.execution(id: id) ?? record
            for step in after.steps where !step.status.isFinished {
                try await catalog.updateStep(id, step.name, self.change(status: .cancelled, log: "cancelled\n"))
            }
            sandbox?.remove()
            return try await catalog.updateExecution(id, change)
        }
        change.status = .interrupted
        change.error = "interrupted: \(error is CancellationError ? "the executor was stopped" : "\(error)"); 'lifeboat recover resume \(id)' continues it"
        // Tried whatever the caller's state; when it fails, the lease expiring says the same.
        _ = try? await catalog.updateExecution(id, change)
        throw error
    }

    func change(status: RecoveryStepStatus, log: String? = nil, finished: Bool = true) -> Catalog.StepChange {
        var c = Catalog.StepChange()
        c.status = status
        c.appendLog = log
        if finished { c.finishedAt = now }
        return c
    }
}

/// A flag set by one task and read by others.
final class SharedFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
