import Foundation
import LifeboatCatalog
import Synchronization

/// Runs asked for outside the clock (a change in a watched folder; later, the API), handed
/// to the ``Scheduler``, which queues them by its usual rules (one per lane, no overlap).
public final class ScheduleRequests: Sendable {
    public struct Request: Sendable, Equatable {
        public var job: ScheduleEntry.Job
        public var scheduleType: ScheduleType

        public init(job: ScheduleEntry.Job, scheduleType: ScheduleType) {
            self.job = job
            self.scheduleType = scheduleType
        }
    }

    private struct State {
        var pending: [Request] = []
        var waiter: CheckedContinuation<Request?, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Asks for a run; it is queued at the scheduler's next turn.
    public func post(_ request: Request) {
        let waiter = state.withLock { s -> CheckedContinuation<Request?, Never>? in
            guard let w = s.waiter else {
                s.pending.append(request)
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume(returning: request)
    }

    /// The next request; nil when the waiting task is cancelled. One waiter at a time.
    func next() async -> Request? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Request?, Never>) in
                enum Outcome { case now(Request?), wait }
                let outcome: Outcome = state.withLock { s in
                    if Task.isCancelled { return .now(nil) }
                    if !s.pending.isEmpty { return .now(s.pending.removeFirst()) }
                    s.waiter = continuation
                    return .wait
                }
                if case .now(let request) = outcome { continuation.resume(returning: request) }
            }
        } onCancel: {
            let waiter = state.withLock { s in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
