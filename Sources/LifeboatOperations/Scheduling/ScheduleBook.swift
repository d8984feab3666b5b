import Foundation
import LifeboatCatalog
import LifeboatCore

/// The scheduler's bookkeeping, without tasks or clocks: which slot each entry waits for,
/// which runs are queued, which run, and which may start now. ``Scheduler`` drives it with
/// the wall clock; it is a value so that its rules read (and test) as plain code.
///
/// The rules:
/// - Catch-up: an entry whose first slot after its last run has passed is queued once at
///   start, however many slots were missed; a backup that never ran, and a plan never
///   drilled, are queued at start too.
/// - A lane (FULL and INCREMENTAL of a source; a source's TRANSACTION_LOG; a repository's
///   prune; a plan's drill) queues at most one run: a slot that comes while one waits merges into it, FULL
///   winning over INCREMENTAL.
/// - No two jobs of a source at once; at most `maxConcurrentJobs` jobs at once; a prune
///   never beside a backup or a drill reading its repository, and a waiting prune holds back
///   those queued after it, so that a busy repository is still pruned.
public struct ScheduleBook: Sendable {
    public let entries: [ScheduleEntry]
    /// The repository every backup writes to (PRIMARY).
    public let backupRepository: String
    public let maxConcurrentJobs: Int
    /// The next slot of each entry, by index in `entries`.
    private(set) var nextSlots: [Date?]
    public private(set) var queue: [ScheduledRun] = []
    public private(set) var running: [ScheduleEntry.Lane: ScheduledRun] = [:]
    private var sequence = 0

    /// - Parameters:
    ///   - lastRuns: when each job last started (any schedule type; a FULL also counts as an
    ///     INCREMENTAL of its source). A backup lane or a drill with no run at all is queued at once.
    ///   - now: the wall clock at start.
    public init(entries: [ScheduleEntry], backupRepository: String, maxConcurrentJobs: Int, lastRuns: [ScheduleEntry.Job: Date], now: Date) {
        self.entries = entries
        self.backupRepository = backupRepository
        self.maxConcurrentJobs = max(1, maxConcurrentJobs)
        nextSlots = entries.map { $0.firstSlot(after: now, lastRun: lastRuns[$0.job]) }
        let lanesRun = Set(lastRuns.keys.map(\.lane))
        for entry in entries {
            if Self.runsAtFirstStart(entry.job), !lanesRun.contains(entry.lane) {
                // A backup never run is overdue since the source was configured, a drill since
                // the plan was written: run it now.
                enqueue(entry.job, slot: now, isCatchUp: true, scheduleType: .scheduled)
                continue
            }
            var last = lastRuns[entry.job]
            if case .backup(let source, .incremental) = entry.job, let full = lastRuns[.backup(source: source, type: .full)] {
                last = max(last ?? full, full)
            }
            guard let last, let missed = entry.next(after: last), missed <= now else { continue }
            enqueue(entry.job, slot: missed, isCatchUp: true, scheduleType: .scheduled)
        }
    }

    private static func runsAtFirstStart(_ job: ScheduleEntry.Job) -> Bool {
        switch job {
        case .backup, .drill: return true
        case .prune: return false
        }
    }

    /// When the next slot of any entry comes.
    public var nextWake: Date? { nextSlots.compactMap { $0 }.min() }

    /// Queues every entry whose slot has come; each moves to its first slot after `now`, so
    /// slots missed by a late wake-up are run once.
    /// - Returns: the runs this queued (not those merged into a waiting run).
    @discardableResult
    public mutating func due(at now: Date) -> [ScheduledRun] {
        var queued: [ScheduledRun] = []
        for (i, entry) in entries.enumerated() {
            guard let slot = nextSlots[i], slot <= now else { continue }
            if let run = enqueue(entry.job, slot: slot, isCatchUp: false, scheduleType: .scheduled) { queued.append(run) }
            nextSlots[i] = entry.next(after: now)
        }
        return queued
    }

    /// Queues a run asked for outside the schedule (a change, a person); merged like a slot.
    @discardableResult
    public mutating func request(_ job: ScheduleEntry.Job, at now: Date, scheduleType: ScheduleType) -> ScheduledRun? {
        enqueue(job, slot: now, isCatchUp: false, scheduleType: scheduleType)
    }

    @discardableResult
    private mutating func enqueue(_ job: ScheduleEntry.Job, slot: Date, isCatchUp: Bool, scheduleType: ScheduleType) -> ScheduledRun? {
        if let i = queue.firstIndex(where: { $0.lane == job.lane }) {
            if case .backup(_, .full) = job { queue[i].job = job }
            queue[i].slot = max(queue[i].slot, slot)
            queue[i].isCatchUp = queue[i].isCatchUp && isCatchUp
            return nil
        }
        sequence += 1
        let run = ScheduledRun(sequence: sequence, lane: job.lane, job: job, slot: slot, isCatchUp: isCatchUp, scheduleType: scheduleType)
        queue.append(run)
        return run
    }

    /// Moves to `running` every queued run the rules let start now, in queue order.
    public mutating func start(at now: Date) -> [ScheduledRun] {
        var started: [ScheduledRun] = []
        var heldRepositories = Set<String>()
        var index = 0
        while index < queue.count, running.count < maxConcurrentJobs {
            var run = queue[index]
            if mayStart(run.lane, held: &heldRepositories) {
                queue.remove(at: index)
                run.startedAt = now
                running[run.lane] = run
                started.append(run)
            } else {
                index += 1
            }
        }
        return started
    }

    private func mayStart(_ lane: ScheduleEntry.Lane, held: inout Set<String>) -> Bool {
        if running[lane] != nil { return false }
        switch lane {
        case .prune(let repository):
            let readers = repository == backupRepository && running.keys.contains { $0.readsRepository }
            if readers { held.insert(repository) }
            return !readers
        case .backup, .transactionLog, .drill:
            if let source = lane.source, running.keys.contains(where: { $0.source == source }) { return false }
            if held.contains(backupRepository) { return false }
            return !running.keys.contains(.prune(repository: backupRepository))
        }
    }

    /// A run ended (whatever its outcome): its lane and source are free again.
    public mutating func finished(_ lane: ScheduleEntry.Lane) {
        running[lane] = nil
    }
}
