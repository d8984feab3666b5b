import Foundation
import LifeboatCatalog

/// What an execution reports as it goes, for a terminal or a log.
public enum RecoveryEvent: Sendable {
    /// The executor holds the execution and starts (or resumes) its steps.
    case started(RecoveryExecutionRecord, resumed: Bool)
    case stepStarted(step: String, type: String, attempt: Int)
    /// An attempt failed; another follows after `retryIn`.
    case attemptFailed(step: String, attempt: Int, error: String, retryIn: Duration)
    case stepFinished(step: String, status: RecoveryStepStatus, detail: String)
    /// A MANUAL_APPROVAL step waits for `recover approve`.
    case waitingForApproval(step: String)
}
