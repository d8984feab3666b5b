import Foundation
import Synchronization

/// A new schedule for a running ``Scheduler`` (the daemon read lifeboat.yaml again on
/// SIGHUP): the newest one wins, one not yet taken is replaced by the next.
public final class ScheduleReloads: Sendable {
    public struct Reload: Sendable {
        public var entries: [ScheduleEntry]
        public var maxConcurrentJobs: Int

        public init(entries: [ScheduleEntry], maxConcurrentJobs: Int) {
            self.entries = entries
            self.maxConcurrentJobs = maxConcurrentJobs
        }
    }

    private struct State {
        var pending: Reload?
        var waiter: CheckedContinuation<Reload?, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Hands a new schedule over; the scheduler takes it at its next turn.
    public func post(_ reload: Reload) {
        let waiter = state.withLock { s -> CheckedContinuation<Reload?, Never>? in
            guard let w = s.waiter else {
                s.pending = reload
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume(returning: reload)
    }

    /// The next schedule; nil when the waiting task is cancelled. One waiter at a time.
    func next() async -> Reload? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Reload?, Never>) in
                enum Outcome { case now(Reload?), wait }
                let outcome: Outcome = state.withLock { s in
                    if Task.isCancelled { return .now(nil) }
                    if let pending = s.pending {
                        s.pending = nil
                        return .now(pending)
                    }
                    s.waiter = continuation
                    return .wait
                }
                if case .now(let reload) = outcome { continuation.resume(returning: reload) }
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
