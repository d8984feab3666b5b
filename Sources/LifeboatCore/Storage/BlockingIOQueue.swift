import Foundation
import NIOPosix
import Synchronization

/// Runs blocking system calls (large writes, fsync, libpq, child processes) off Swift's
/// cooperative thread pool, which has one thread per core: an fsync that waits for the disk
/// must not stop a core from chunking and sealing meanwhile.
///
/// One bounded pool for the whole process (a daemon's jobs share it): its size is set once,
/// before first use, by ``configure(threads:)`` (the CLI's `LIFEBOAT_IO_THREADS`, the
/// daemon's configuration); by default twice the cores, at least 4. Work beyond that waits
/// for a thread instead of making more.
public enum BlockingIOQueue {
    private static let requestedThreads = Mutex<Int?>(nil)

    /// Sets the pool's size; only the first call before the pool starts counts.
    public static func configure(threads: Int) {
        requestedThreads.withLock { $0 = $0 ?? max(1, threads) }
    }

    private static let pool: BoundedPool = {
        let count = requestedThreads.withLock { $0 } ?? max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
        return BoundedPool(threads: count)
    }()

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.threadPool.runIfActive(body)
    }

    /// The NIO thread pool. Started once, never shut down: it lives as long as the process.
    private final class BoundedPool: Sendable {
        let threadPool: NIOThreadPool

        init(threads: Int) {
            threadPool = NIOThreadPool(numberOfThreads: threads)
            threadPool.start()
        }
    }
}
