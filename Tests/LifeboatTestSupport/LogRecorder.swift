import Foundation
import Logging
import Synchronization

/// Keeps what a Logger is told, so that a test waits for the line that says the event
/// happened (an execution waiting for its approval, ended) instead of polling or sleeping.
public final class LogRecorder: Sendable {
    private struct Waiter {
        let id: UUID
        let needle: String
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var lines: [String] = []
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// A logger whose messages (all levels) this records.
    public func logger(label: String) -> Logger {
        Logger(label: label) { _ in Handler(recorder: self) }
    }

    public var lines: [String] { state.withLock { $0.lines } }

    /// Waits until a message containing `needle` was logged (before or after the call);
    /// false if the waiting task is cancelled first (the test's time limit ends a stuck
    /// wait, not a guessed duration here).
    public func waitFor(_ needle: String) async -> Bool {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let seen = state.withLock { s -> Bool in
                    if s.lines.contains(where: { $0.contains(needle) }) { return true }
                    s.waiters.append(Waiter(id: id, needle: needle, continuation: continuation))
                    return false
                }
                if seen { return continuation.resume(returning: true) }
                if Task.isCancelled { finish { $0.id == id }.forEach { $0.continuation.resume(returning: false) } }
            }
        } onCancel: {
            finish { $0.id == id }.forEach { $0.continuation.resume(returning: false) }
        }
    }

    /// Removes and returns the waiters `matching` says are done.
    private func finish(_ matching: (Waiter) -> Bool) -> [Waiter] {
        state.withLock { s in
            let done = s.waiters.filter(matching)
            s.waiters.removeAll(where: matching)
            return done
        }
    }

    fileprivate func record(_ line: String) {
        state.withLock { $0.lines.append(line) }
        for waiter in finish({ line.contains($0.needle) }) { waiter.continuation.resume(returning: true) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(
            level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt
        ) {
            recorder.record("\(level) \(message)")
        }
    }
}
