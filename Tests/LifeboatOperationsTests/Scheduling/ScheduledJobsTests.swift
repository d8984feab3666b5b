import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

/// The daemon's jobs against a real repository and catalog, driven by a real ``Scheduler``
/// on a ``ManualClock``: what a job records is what the next start's catch-up reads.
@Suite("ScheduledJobs", .timeLimit(.minutes(10)))
struct ScheduledJobsTests {
    @Test("a prune is recorded, so that prunes missed while the daemon was down run once at its next start")
    func pruneCatchUp() async throws {
        let fixture = try await OperationsFixture(ScratchDirectory("prune-catch-up"))
        defer { Task { await fixture.context.backends.shutdown() } }
        let jobs = ScheduledJobs(context: fixture.context, passphrase: TestRepository.passphrase)
        let entry = try #require(try fixture.context.configuration.scheduleEntries().first { $0.lane == .prune(repository: "primary") })
        let first = await jobs.perform(ScheduledRun(sequence: 1, lane: entry.lane, job: entry.job, slot: Date(), isCatchUp: false, scheduleType: .scheduled))
        #expect(first.error == nil, "\(first.error ?? "")")
        let pruned = try #require(try await jobs.lastRuns()[entry.job], "the prune is one of the runs the catch-up reads")
        let slot = try #require(entry.next(after: pruned))
        let justBefore = ScheduleBook(entries: [entry], backupRepository: "primary", maxConcurrentJobs: 2, lastRuns: try await jobs.lastRuns(), now: slot.addingTimeInterval(-1))
        #expect(justBefore.queue.isEmpty, "nothing is missed before the next slot")

        // Back three weeks later (three slots missed), an hour before the next: one prune, at start.
        let clock = ManualClock()
        let origin = slot.addingTimeInterval(3 * 7 * 86_400 - 3600)
        var scheduler = Scheduler(
            entries: [entry], backupRepository: "primary", clock: clock, now: { origin.addingTimeInterval(clock.now.offset.seconds) },
            lastRuns: { try await jobs.lastRuns() }, perform: { run in _ = await jobs.perform(run) })
        let (events, observer) = AsyncStream<SchedulerEvent>.makeStream()
        scheduler.observe = { observer.yield($0) }
        let (stop, stopper) = AsyncStream<Void>.makeStream()
        let daemon = Task { [scheduler] in
            try await scheduler.run(until: {
                for await _ in stop { return }
            })
        }
        // Stopped once nothing runs or waits: after the catch-up's end, or at once without one.
        var started: [ScheduledRun] = []
        for await event in events {
            if case .started(let run) = event { started.append(run) }
            if case .waiting(let w) = event, w.running == 0, w.queued == 0 {
                stopper.yield()
                break
            }
        }
        try await daemon.value
        #expect(started.map(\.job) == [entry.job])
        #expect(started.first?.isCatchUp == true)
        let after = try #require(try await jobs.lastRuns()[entry.job])
        #expect(after > pruned, "the catch-up's prune is recorded too")
    }
}
