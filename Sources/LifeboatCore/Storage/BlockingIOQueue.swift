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
/// daemon's configuration); by default one thread per core, at least 2. Work beyond that
/// waits for a thread instead of making more. More threads than cores made a backup from
/// the page cache slower (4 threads on 2 cores: 8% more wall time; 8 threads: 18%), since
/// the walk's reads then compete with chunking and sealing for the cores; a slow or remote
/// file system wants more, through `LIFEBOAT_IO_THREADS`.
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
        let count = requestedThreads.withLock { $0 } ?? max(2, ProcessInfo.processInfo.activeProcessorCount)
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
///
/// A job that a pool thread enqueues while no thread is idle goes to that thread's "next"
/// slot instead (as Go's scheduler does): it runs as soon as the current job ends, with no
/// wake-up. That is the common case of a walk: a file's task ends and resumes the walk, the
/// walk starts the next file's task. Without it every such switch woke a sleeping thread:
/// five times the context switches of Swift's own pool, 10% slower backups. A thread with
/// nothing queued takes another thread's slotted job before it sleeps, so a job never waits
/// for a busy thread while another is free (without that, backups were 11% slower again).
public final class BlockingIOExecutor: TaskExecutor, @unchecked Sendable {
    private enum Work {
        case job(UnownedJob)
        case call(@Sendable () -> Void)
    }

    /// One pool thread's slot; `next` is guarded by the executor's lock.
    private final class Worker {
        unowned let executor: BlockingIOExecutor
        var next: Work?
        init(executor: BlockingIOExecutor) { self.executor = executor }
    }

    // NSCondition guards `queue`, `head`, `workers` and each worker's `next`: threads sleep
    // on it while there is nothing to take.
    private let condition = NSCondition()
    private var queue: [Work] = []
    private var head = 0
    private var workers: [Worker] = []
    /// Threads asleep on `condition`; read without the lock to choose between slot and queue.
    private let idle = Atomic<Int>(0)

    /// The pool thread's ``Worker``, so that ``BlockingIOQueue/run(_:)`` can run inline there.
    private static let workerKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    static var isCurrentThreadInPool: Bool { pthread_getspecific(workerKey) != nil }

    init(threads: Int) {
        for number in 0..<threads {
            let thread = Thread { [self] in
                let worker = Worker(executor: self)
                pthread_setspecific(Self.workerKey, Unmanaged.passRetained(worker).toOpaque())
                condition.lock()
                workers.append(worker)
                condition.unlock()
                while true { perform(take(for: worker)) }
            }
            thread.name = "lifeboat-io-\(number)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        schedule(.job(UnownedJob(job)))
    }

    func submit(_ call: @escaping @Sendable () -> Void) {
        schedule(.call(call))
    }

    private func schedule(_ work: Work) {
        var slot: Worker?
        if idle.load(ordering: .relaxed) == 0, let raw = pthread_getspecific(Self.workerKey) {
            let worker = Unmanaged<Worker>.fromOpaque(raw).takeUnretainedValue()
            // Every thread is busy: nobody could start it sooner than this thread will.
            if worker.executor === self { slot = worker }
        }
        condition.lock()
        if let slot {
            if let displaced = slot.next { queue.append(displaced) }
            slot.next = work
        } else {
            queue.append(work)
        }
        let wake = idle.load(ordering: .relaxed) > 0
        condition.unlock()
        // Signalled after unlocking: the woken thread does not wake into a held lock.
        if wake { condition.signal() }
    }

    /// The thread's own slotted job, else the queue's first, else another thread's slotted
    /// job; sleeps while there is none.
    private func take(for worker: Worker) -> Work {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let work = worker.next {
                worker.next = nil
                return work
            }
            if head < queue.count {
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
            if let other = workers.first(where: { $0.next != nil }), let work = other.next {
                other.next = nil
                return work
            }
            idle.add(1, ordering: .relaxed)
            condition.wait()
            idle.subtract(1, ordering: .relaxed)
        }
    }

    private func perform(_ work: Work) {
        switch work {
        case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
        case .call(let call): call()
        }
    }
}
