import Foundation
import LifeboatCore

/// Why an execution cannot be started, resumed, approved or cancelled, or why a step's
/// attempt failed. One sentence each: what, on what, what to do.
public enum RecoveryError: Error, Sendable, CustomStringConvertible {
    case unknownExecution(String)
    case alreadyFinished(UUID, String)
    case heldByAnother(UUID, owner: String, until: Date?)
    case notWaitingForApproval(UUID, step: String, status: String)
    case unknownStep(UUID, step: String, steps: [String])
    /// One attempt of a step failed.
    case stepFailed(String)
    case timedOut(step: String, after: Duration)
    /// The execution was cancelled (`recover cancel`).
    case cancelled(UUID)

    public var description: String {
        switch self {
        case .unknownExecution(let id): return "no recovery execution '\(id)' in the catalog: list them with 'lifeboat recover list'"
        case .alreadyFinished(let id, let status): return "recovery execution \(id) already finished (\(status)): there is nothing to resume"
        case .heldByAnother(let id, let owner, let until):
            return "recovery execution \(id) is being run by \(owner)\(until.map { " (its lease runs until \(ISO8601.format($0)))" } ?? ""): wait for it, or cancel it"
        case .notWaitingForApproval(let id, let step, let status):
            return "step '\(step)' of recovery execution \(id) is not waiting for an approval (it is \(status))"
        case .unknownStep(let id, let step, let steps): return "recovery execution \(id) has no step '\(step)' (steps are \(steps.joined(separator: ", ")))"
        case .stepFailed(let why): return why
        case .timedOut(let step, let after): return "step '\(step)' did not finish within its timeout of \(PlanDuration.format(after.components.seconds))"
        case .cancelled(let id): return "recovery execution \(id) was cancelled"
        }
    }
}
