import Dispatch

/// Runs a blocking wait (a pipe read, poll(2), a process's end) on a Dispatch thread, not
/// on the cooperative pool: with two cores the pool has two threads, and tests that block
/// them would starve every other test of the run.
public enum OffPool {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
