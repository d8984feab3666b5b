import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The long work the API starts (a backup, a recovery execution), run by the daemon rather
/// than by the request that asked for it: the request answers 202 once the work has started,
/// and the work goes on after the response, owned by ``APIWorkService`` in the ServiceGroup.
/// On graceful shutdown no new work starts; what runs gets the grace period, then is
/// cancelled (a backup's row reads INTERRUPTED, an execution is resumable), as the
/// scheduler's jobs are.
public final class APIWork: Sendable {
    typealias Job = @Sendable () async -> Void

    private let jobs: AsyncStream<Job>
    private let submissions: AsyncStream<Job>.Continuation

    public init() {
        (jobs, submissions) = AsyncStream.makeStream(of: Job.self)
    }

    /// Starts `body` as daemon-owned work and returns what it reports through `started`
    /// (the BackupLog row's id, the execution's record): the request waits only for that.
    /// - Throws: what `body` threw before it reported; ``APIWorkError`` when the daemon is
    ///   shutting down or the work ended without starting.
    func start<T: Sendable>(
        _ what: String, logger: Logger, _ body: @escaping @Sendable (_ started: @escaping @Sendable (T) -> Void) async throws -> Void
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let answer = Answer(continuation)
            let result = submissions.yield {
                do {
                    try await body { answer.resume(.success($0)) }
                    answer.resume(.failure(APIWorkError.endedBeforeStarting(what)))
                } catch {
                    // Before the start, the error is the request's answer; after it, the
                    // work's own record (BackupLog row, execution) carries it.
                    if !answer.resume(.failure(error)) { logger.warning("\(what) failed: \(error)") }
                }
            }
            if case .terminated = result { answer.resume(.failure(APIWorkError.shuttingDown)) }
        }
    }

    /// Runs submitted work until graceful shutdown (or cancellation), then gives what still
    /// runs `grace` before cancelling it.
    func run(grace: Duration, clock: any Clock<Duration>) async {
        let jobs = self.jobs
        let submissions = self.submissions
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withDiscardingTaskGroup { running in
                    for await job in jobs { running.addTask { await job() } }
                }
            }
            // CancellationError means cancelled without a graceful shutdown: the group's
            // tasks are cancelled with this one.
            try? await gracefulShutdown()
            submissions.finish()
            group.addTask { try? await clock.sleep(for: grace) }
            // The first to end: every job (nothing left to wait for), or the grace period.
            _ = await group.next()
            group.cancelAll()
        }
    }

    /// Resumes a continuation once; later results are dropped (and reported as such).
    private final class Answer<T: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<T, any Error>?>

        init(_ continuation: CheckedContinuation<T, any Error>) {
            self.continuation = Mutex(continuation)
        }

        @discardableResult
        func resume(_ result: Result<T, any Error>) -> Bool {
            guard let c = continuation.withLock({ c in defer { c = nil }; return c }) else { return false }
            c.resume(with: result)
            return true
        }
    }
}

/// Why API work did not start.
enum APIWorkError: Error, CustomStringConvertible {
    case shuttingDown
    case endedBeforeStarting(String)

    var description: String {
        switch self {
        case .shuttingDown: "the daemon is shutting down and starts no new work: retry once it runs again"
        case .endedBeforeStarting(let what): "\(what) ended before it started: see the daemon's log"
        }
    }
}

/// ``APIWork`` as a service of the daemon's ServiceGroup.
public struct APIWorkService: Service {
    let work: APIWork
    let grace: Duration
    let clock: any Clock<Duration>

    public init(work: APIWork, grace: Duration, clock: any Clock<Duration>) {
        self.work = work
        self.grace = grace
        self.clock = clock
    }

    public func run() async throws {
        await work.run(grace: grace, clock: clock)
    }
}
