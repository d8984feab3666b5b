import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking system calls (file reads and writes, fsync, directory walks, SQLite,
/// libpq, child processes) off Swift's cooperative thread pool, which has one thread per
/// core: a read that waits for a slow disk or an NFS server must not stop a core from
/// chunking and sealing, nor a daemon from answering its health checks.
///
/// One bounded pool for the whole process (a daemon's jobs share it): its size is set once,
/// before first use, by ``configure(threads:)`` (the CLI's `LIFEBOAT_IO_THREADS`, the
/// daemon's configuration); by default twice the cores, at least 4. Work beyond that waits
/// for a thread instead of making more.
///
/// Two ways in. ``run(_:)`` moves one blocking call onto the pool. ``withExecutor(_:)``
/// runs a whole walk there as the task executor preference (SE-0417): the walk and its
/// child tasks stay on the pool's threads, so a file's open, reads and fstat cost no
/// thread switch each (a hop per call made backups 30-50% slower), and ``run(_:)`` called
/// from there runs inline. An actor they call may run on another thread: what blocks in
/// it goes through ``run(_:)``.
public enum BlockingIOQueue {
    private static let requestedThreads = Mutex<Int?>(nil)

    /// Sets the pool's size; only the first call before the pool starts counts.
    public static func configure(threads: Int) {
        requestedThreads.withLock { $0 = $0 ?? max(1, threads) }
    }

    /// The pool as a task executor. Started on first use, never shut down: it lives as
    /// long as the process.
    public static let executor: BlockingIOExecutor = {
        let count = requestedThreads.withLock { $0 } ?? max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
        return BlockingIOExecutor(threads: count)
    }()

    /// Runs `body` on the pool: inline when the caller already runs there.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if BlockingIOExecutor.isCurrentThreadInPool { return try body() }
        return try await withCheckedThrowingContinuation { continuation in
            executor.submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs `operation` with the pool as its task executor preference (see the type's note).
    static func withExecutor<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(executor, operation: operation)
    }
}

/// A fixed set of threads taking jobs (tasks' partial runs and plain closures) from one
/// first-in first-out queue.
public final class BlockingIOExecutor: TaskExecutor, @unchecked Sendable {
    private enum Work {
        case job(UnownedJob)
        case call(@Sendable () -> Void)
    }

    // NSCondition guards `queue`: threads sleep on it while the queue is empty.
    private let condition = NSCondition()
    private var queue: [Work] = []
    private var head = 0

    /// Marks the pool's threads, so that ``BlockingIOQueue/run(_:)`` can run inline there.
    private static let poolThreadKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    static var isCurrentThreadInPool: Bool { pthread_getspecific(poolThreadKey) != nil }

    init(threads: Int) {
        for number in 0..<threads {
            let thread = Thread { [self] in
                pthread_setspecific(Self.poolThreadKey, UnsafeRawPointer(bitPattern: 1))
                while true { perform(next()) }
            }
            thread.name = "lifeboat-io-\(number)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        append(.job(UnownedJob(job)))
    }

    func submit(_ call: @escaping @Sendable () -> Void) {
        append(.call(call))
    }

    private func append(_ work: Work) {
        condition.lock()
        queue.append(work)
        condition.signal()
        condition.unlock()
    }

    private func next() -> Work {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count { condition.wait() }
        let work = queue[head]
        head += 1
        // Drop what was taken once it is most of the array: appends stay amortized O(1).
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return work
    }

    private func perform(_ work: Work) {
        switch work {
        case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
        case .call(let call): call()
        }
    }
}
