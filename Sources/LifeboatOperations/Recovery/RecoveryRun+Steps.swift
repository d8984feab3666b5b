import Foundation
import LifeboatCatalog
import LifeboatCore

/// What one successful attempt leaves: its log lines and, for a restore, the time of the
/// data it restored.
struct StepResult: Sendable {
    var log: String
    var restorePoint: Date?
}

extension RecoveryRun {
    /// Runs one step to its end: skipped in a drill when it does not run in drills;
    /// otherwise attempts, each within its timeout, retried with a doubling backoff.
    /// Returns the status it ended with (saved before returning).
    func runStep(_ step: RecoveryStep, previous: RecoveryStepRunRecord?) async throws -> RecoveryStepStatus {
        if record.mode == .test && !step.runsInTest {
            try await catalog.updateStep(id, step.name, change(status: .skipped, log: "not run in a drill (runInTest is false)\n"))
            events(.stepFinished(step: step.name, status: .skipped, detail: "not run in a drill"))
            return .skipped
        }
        let clock = executor.context.clock
        // Attempts count on from a run before a crash: the record says how many there were.
        var attempt = previous?.attempts ?? 0
        var triesLeft = step.retryCount + 1
        if attempt > 0 {
            try await catalog.updateStep(id, step.name, change(status: .running, log: "resumed after attempt \(attempt) was interrupted\n", finished: false))
        }
        while true {
            attempt += 1
            triesLeft -= 1
            var starting = Catalog.StepChange()
            starting.status = step.type == .manualApproval ? .waitingApproval : .running
            starting.attempts = attempt
            starting.startedAt = now
            try await catalog.updateStep(id, step.name, starting)
            events(.stepStarted(step: step.name, type: step.type.rawValue, attempt: attempt))
            do {
                let result = try await withTimeout(step.attemptTimeout, step: step.name) { try await self.attempt(step) }
                var done = change(status: .succeeded, log: result.log.hasSuffix("\n") || result.log.isEmpty ? result.log : result.log + "\n")
                done.restorePoint = result.restorePoint
                try await catalog.updateStep(id, step.name, done)
                events(.stepFinished(step: step.name, status: .succeeded, detail: result.log.split(separator: "\n").last.map(String.init) ?? ""))
                return .succeeded
            } catch {
                if Task.isCancelled || error is CancellationError {
                    if cancelSeen.isSet {
                        try? await catalog.updateStep(id, step.name, change(status: .cancelled, log: "cancelled during attempt \(attempt)\n"))  // the cancel is what matters
                    }
                    throw error
                }
                let text = "\(error)"
                guard triesLeft > 0 else {
                    try await catalog.updateStep(id, step.name, change(status: .failed, log: "attempt \(attempt) failed: \(text)\n"))
                    events(.stepFinished(step: step.name, status: .failed, detail: text))
                    return .failed
                }
                let delay = min(executor.retryBackoff * (1 << min(attempt - 1, 6)), .seconds(60))
                try await catalog.updateStep(id, step.name, change(status: .running, log: "attempt \(attempt) failed: \(text); retrying\n", finished: false))
                events(.attemptFailed(step: step.name, attempt: attempt, error: text, retryIn: delay))
                try await clock.sleep(for: delay)
            }
        }
    }

    /// `body`, or ``RecoveryError/timedOut(step:after:)`` once `limit` passed on the clock
    /// (the body is cancelled: a command is killed, a restore stops between files).
    func withTimeout(_ limit: Duration?, step: String, _ body: @escaping @Sendable () async throws -> StepResult) async throws -> StepResult {
        guard let limit else { return try await body() }
        let clock = executor.context.clock
        return try await withThrowingTaskGroup(of: StepResult?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await clock.sleep(for: limit)
                throw RecoveryError.timedOut(step: step, after: limit)
            }
            guard let first = try await group.next() ?? nil else { preconditionFailure("the timer only ends by throwing") }
            group.cancelAll()
            return first
        }
    }

    /// One attempt of a step, by type.
    func attempt(_ step: RecoveryStep) async throws -> StepResult {
        switch step.type {
        case .restoreBackup: return try await restore(step)
        case .verifySystem: return try await verify(step)
        case .runCommand: return try await runCommand(step)
        case .httpCheck: return try await httpCheck(step)
        case .notify: return try await notify(step)
        case .manualApproval: return try await waitForApproval(step)
        case .wait:
            let duration = step.duration ?? PlanDuration(seconds: 0)
            try await executor.context.clock.sleep(for: duration.duration)
            return StepResult(log: "waited \(duration)")
        }
    }

    /// Polls the catalog for the approval another process records (`recover approve`).
    func waitForApproval(_ step: RecoveryStep) async throws -> StepResult {
        var change = Catalog.ExecutionChange()
        change.status = .waitingApproval
        try await catalog.updateExecution(id, change)
        events(.waitingForApproval(step: step.name))
        while true {
            if let row = try await catalog.execution(id: id)?.step(step.name), let at = row.approvedAt {
                var running = Catalog.ExecutionChange()
                running.status = .running
                let after = try await catalog.updateExecution(id, running)
                // Another approval step running side by side still waits.
                if after.steps.contains(where: { $0.status == .waitingApproval && $0.name != step.name }) {
                    var waiting = Catalog.ExecutionChange()
                    waiting.status = .waitingApproval
                    try await catalog.updateExecution(id, waiting)
                }
                return StepResult(log: "approved by \(row.approvedBy ?? "?") at \(ISO8601.format(at))\(row.approvalComment.map { ": \($0)" } ?? "")")
            }
            try await executor.context.clock.sleep(for: executor.pollInterval)
        }
    }
}
