import Dispatch

/// Runs blocking system calls (large writes, fsync) off Swift's cooperative thread pool,
/// which has one thread per core: an fsync that waits for the disk must not stop a core
/// from chunking and sealing meanwhile.
enum BlockingIOQueue {
    private static let queue = DispatchQueue(label: "lifeboat.blocking-io", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { try body() }) }
        }
        return try result.get()
    }
}
