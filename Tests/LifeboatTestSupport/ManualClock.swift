import Foundation
import Synchronization

/// A clock that moves only when the test says so: time is injected, not waited for
/// (STYLE §6). Sleepers wake when ``advance(by:)`` passes their deadline, or throw
/// `CancellationError` when their task is cancelled; ``sleepers(atLeast:)`` waits until so
/// many are asleep, so a test advances only once the subject is waiting.
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol {
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

        /// The watchers whose count of sleepers is reached, removed.
        mutating func satisfiedWatchers() -> [CheckedContinuation<Void, Never>] {
            let ready = watchers.filter { $0.count <= sleepers.count }.map(\.continuation)
            watchers.removeAll { $0.count <= sleepers.count }
            return ready
        }
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case wait([CheckedContinuation<Void, Never>]), now, cancelled }
                let outcome: Outcome = state.withLock { s in
                    // Checked under the lock the cancellation handler also takes: a cancel that
                    // came first is seen here, one that comes later finds the sleeper.
                    if Task.isCancelled { return .cancelled }
                    if deadline <= s.now { return .now }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return .wait(s.satisfiedWatchers())
                }
                switch outcome {
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .now: continuation.resume()
                case .wait(let watchers): for w in watchers { w.resume() }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time on and wakes every sleeper whose deadline it passes.
    public func advance(by duration: Duration) {
        let woken = state.withLock { s in
            s.now = s.now.advanced(by: duration)
            let due = s.sleepers.filter { $0.value.deadline <= s.now }
            for id in due.keys { s.sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for c in woken { c.resume() }
    }

    /// Returns once at least `count` tasks sleep on this clock.
    public func sleepers(atLeast count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s in
                if s.sleepers.count >= count { return true }
                s.watchers.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
