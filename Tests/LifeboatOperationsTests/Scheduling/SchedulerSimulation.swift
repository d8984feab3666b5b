import Foundation
import LifeboatCore
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatOperations

/// Runs a real ``Scheduler`` through simulated weeks on a ``ManualClock``: the daemon is up
/// over the given intervals (killed at each interval's end, restarted with what it ran as
/// its history), every job lasts as long as `duration` says, and time jumps from one event
/// (a slot, a job's end) to the next once the scheduler has seen the last one.
struct SchedulerSimulation {
    struct Run: Sendable, Equatable {
        var job: ScheduleEntry.Job
        var startedAt: Date
        var isCatchUp: Bool
    }

    let entries: [ScheduleEntry]
    let backupRepository: String
    var maxConcurrentJobs = 2
    /// How long a run lasts, by the run and its start.
    var duration: @Sendable (ScheduledRun) -> Duration = { _ in .seconds(600) }

    /// Every run started while the daemon was up over `uptimes`, in start order.
    /// - Parameter ranBefore: every job is taken to have run this long before the first start
    ///   (none: a first start ever, when every backup runs at once).
    func run(uptimes: [ClosedRange<Date>], ranBefore: Duration? = .seconds(60)) async throws -> [Run] {
        let clock = ManualClock()
        let origin = try #require(uptimes.first?.lowerBound)
        let now: @Sendable () -> Date = { origin.addingTimeInterval(clock.now.offset.seconds) }
        let before = ranBefore.map { origin.addingTimeInterval(-$0.seconds) }
        var history: [Run] = before.map { at in entries.map { Run(job: $0.job, startedAt: at, isCatchUp: false) } } ?? []
        let seeded = history.count
        for uptime in uptimes {
            clock.advance(by: .seconds(uptime.lowerBound.timeIntervalSince(now())))
            history = try await runDaemon(clock: clock, now: now, until: uptime.upperBound, history: history)
        }
        return Array(history.dropFirst(seeded))
    }

    private func runDaemon(clock: ManualClock, now: @escaping @Sendable () -> Date, until end: Date, history: [Run]) async throws -> [Run] {
        var lastRuns: [ScheduleEntry.Job: Date] = [:]
        for run in history { lastRuns[run.job] = max(lastRuns[run.job] ?? run.startedAt, run.startedAt) }
        let gates = Gates()
        let (events, observer) = AsyncStream<SchedulerEvent>.makeStream()
        var scheduler = Scheduler(
            entries: entries, backupRepository: backupRepository, clock: clock, now: now, lastRuns: { [lastRuns] in lastRuns },
            perform: { run in await gates.wait(run.sequence) })
        scheduler.maxConcurrentJobs = maxConcurrentJobs
        scheduler.observe = { observer.yield($0) }
        let daemon = Task { [scheduler] in
            // Stopped only by cancellation here: a kill, as far as the schedule can tell.
            try await scheduler.run(until: { await Gates.never() })
        }
        var runs = history
        var running: [Int: Date] = [:]
        var ended = 0
        var lastTurn = 0
        var iterator = events.makeAsyncIterator()
        while true {
            var settled: SchedulerEvent.Waiting?
            while settled == nil, let event = await iterator.next() {
                switch event {
                case .started(let run):
                    let startedAt = try #require(run.startedAt)
                    runs.append(Run(job: run.job, startedAt: startedAt, isCatchUp: run.isCatchUp))
                    running[run.sequence] = startedAt.addingTimeInterval(duration(run).seconds)
                case .waiting(let w) where w.turn > lastTurn && w.finishedRuns == ended && (w.until.map { $0 > now() } ?? true):
                    settled = w
                default: break
                }
            }
            let waiting = try #require(settled)
            lastTurn = waiting.turn
            let nextEnd = running.values.min()
            let next = [nextEnd, waiting.until, end].compactMap { $0 }.min()!
            clock.advance(by: .seconds(next.timeIntervalSince(now())))
            if next >= end { break }
            for (sequence, endsAt) in running where endsAt == next {
                running[sequence] = nil
                ended += 1
                gates.open(sequence)
            }
        }
        daemon.cancel()
        try await daemon.value
        return runs
    }

    /// One gate per run: the run's job waits at it until the simulation opens it (its end),
    /// or until the daemon is killed.
    final class Gates: Sendable {
        private let state = Mutex<(open: Set<Int>, waiting: [Int: CheckedContinuation<Void, Never>])>((open: [], waiting: [:]))

        func wait(_ sequence: Int) async {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { s in
                        if s.open.contains(sequence) || Task.isCancelled { return true }
                        s.waiting[sequence] = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                open(sequence)
            }
        }

        func open(_ sequence: Int) {
            let waiter = state.withLock { s in
                s.open.insert(sequence)
                return s.waiting.removeValue(forKey: sequence)
            }
            waiter?.resume()
        }

        /// Returns only when its task is cancelled.
        static func never() async {
            let gates = Gates()
            await gates.wait(0)
        }
    }
}
