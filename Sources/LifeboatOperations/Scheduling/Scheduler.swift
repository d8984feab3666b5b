import Foundation
import LifeboatCore

/// Runs a ``ScheduleBook`` against the wall clock: sleeps until the next slot (on an
/// injected clock, so tests move time), starts what the book allows, and on a stop lets
/// running jobs finish within a grace period before cancelling them.
///
/// One task group holds everything: a timer child per armed slot, one child per running job,
/// and a child that waits for the stop request; the loop takes their results one at a time,
/// so the book is only ever touched by the loop.
public struct Scheduler: Sendable {
    public var entries: [ScheduleEntry]
    /// The repository backups write to (PRIMARY), which a prune must not share with a backup.
    public var backupRepository: String
    public var maxConcurrentJobs = LifeboatConfiguration.Server.defaultMaxConcurrentJobs
    public var shutdownGrace = LifeboatConfiguration.Server.defaultShutdownGrace
    /// What the scheduler sleeps on.
    public var clock: any Clock<Duration>
    /// The wall clock slots are read on; in tests, an origin plus the test clock's offset.
    public var now: @Sendable () -> Date
    /// When each job last started, from the catalog: the catch-up's memory.
    public var lastRuns: @Sendable () async throws -> [ScheduleEntry.Job: Date]
    /// Runs a job to its end and records it; errors are its own to report. Cancelled when the
    /// grace period runs out, it must still leave its record consistent (INTERRUPTED).
    public var perform: @Sendable (ScheduledRun) async -> Void
    public var observe: @Sendable (SchedulerEvent) -> Void = { _ in }
    /// Runs asked for outside the clock (changes in watched folders), queued as they come.
    public var requests: ScheduleRequests?
    /// New schedules (lifeboat.yaml read again), taken as they come.
    public var reloads: ScheduleReloads?

    public init(
        entries: [ScheduleEntry], backupRepository: String, clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }, lastRuns: @escaping @Sendable () async throws -> [ScheduleEntry.Job: Date],
        perform: @escaping @Sendable (ScheduledRun) async -> Void
    ) {
        self.entries = entries
        self.backupRepository = backupRepository
        self.clock = clock
        self.now = now
        self.lastRuns = lastRuns
        self.perform = perform
    }

    private enum Event: Sendable {
        case tick
        case finished(ScheduledRun)
        case stop
        case graceExpired
        case requested(ScheduleRequests.Request?)
        case reload(ScheduleReloads.Reload?)
    }

    /// Runs until `stopRequested` returns (then gracefully) or the task is cancelled (then
    /// running jobs are cancelled at once).
    /// - Throws: what `lastRuns` throws, before anything started.
    public func run(until stopRequested: @escaping @Sendable () async -> Void) async throws {
        var book = ScheduleBook(
            entries: entries, backupRepository: backupRepository, maxConcurrentJobs: maxConcurrentJobs, lastRuns: try await lastRuns(), now: now())
        for run in book.queue { observe(.queued(run)) }
        let clock = self.clock
        let perform = self.perform
        let grace = shutdownGrace
        await withTaskGroup(of: Event.self) { group in
            group.addTask {
                await stopRequested()
                return .stop
            }
            let requests = self.requests
            if let requests { group.addTask { .requested(await requests.next()) } }
            let reloads = self.reloads
            if let reloads { group.addTask { .reload(await reloads.next()) } }
            var timer: Date?
            var stopping = false
            var turn = 0
            var finishedRuns = 0
            while true {
                turn += 1
                if Task.isCancelled && !stopping {
                    // The group's children, the jobs among them, are cancelled with this task.
                    stopping = true
                    observe(.stopping(running: Array(book.running.values)))
                }
                if !stopping {
                    let wall = now()
                    for run in book.due(at: wall) { observe(.queued(run)) }
                    if timer == nil, let wake = book.nextWake {
                        timer = wake
                        let sleep = Self.sleeper(on: clock, for: Self.delay(from: wall, to: wake))
                        group.addTask {
                            await sleep()
                            return .tick
                        }
                    }
                    for run in book.start(at: wall) {
                        observe(.started(run))
                        group.addTask {
                            await perform(run)
                            return .finished(run)
                        }
                    }
                }
                observe(
                    .waiting(
                        .init(until: stopping ? nil : timer, running: book.running.count, queued: book.queue.count, turn: turn, finishedRuns: finishedRuns)))
                if stopping && book.running.isEmpty { break }
                guard let event = await group.next() else { break }
                switch event {
                case .tick:
                    timer = nil
                case .finished(let run):
                    book.finished(run.lane)
                    finishedRuns += 1
                    observe(.finished(run))
                case .stop:
                    guard !stopping else { continue }
                    stopping = true
                    observe(.stopping(running: Array(book.running.values)))
                    let sleep = Self.sleeper(on: clock, for: grace)
                    group.addTask {
                        await sleep()
                        return .graceExpired
                    }
                case .requested(let request):
                    guard let request, let requests, !stopping else { continue }
                    if let run = book.request(request.job, at: now(), scheduleType: request.scheduleType) { observe(.queued(run)) }
                    group.addTask { .requested(await requests.next()) }
                case .reload(let reload):
                    guard let reload, let reloads, !stopping else { continue }
                    // The catalog away for a moment: new entries then wait for their first slot.
                    let last = try? await lastRuns()
                    for run in book.replace(entries: reload.entries, maxConcurrentJobs: reload.maxConcurrentJobs, lastRuns: last, now: now()) {
                        observe(.queued(run))
                    }
                    // A new entry may come before the armed timer: arm another (a stale tick is harmless).
                    if let armed = timer, let wake = book.nextWake, wake < armed { timer = nil }
                    observe(.reloaded(reload.entries))
                    group.addTask { .reload(await reloads.next()) }
                case .graceExpired:
                    guard !book.running.isEmpty else { continue }
                    observe(.cancelling(Array(book.running.values)))
                    group.cancelAll()
                }
            }
            group.cancelAll()
        }
    }

    /// A sleep whose deadline is fixed now, not when its task gets to run: a test clock
    /// moved in between must not push it later.
    static func sleeper<C: Clock<Duration>>(on clock: C, for delay: Duration) -> @Sendable () async -> Void {
        let deadline = clock.now.advanced(by: delay)
        return {
            // Cancelled only on a stop, when the loop ignores what the sleep ends in.
            try? await clock.sleep(until: deadline, tolerance: nil)
        }
    }

    /// The wait from `wall` to `wake`, rounded up to the millisecond so that the scheduler
    /// never wakes before a slot.
    static func delay(from wall: Date, to wake: Date) -> Duration {
        let milliseconds = (wake.timeIntervalSince(wall) * 1000).rounded(.up)
        return .milliseconds(Int64(max(0, milliseconds)))
    }
}
