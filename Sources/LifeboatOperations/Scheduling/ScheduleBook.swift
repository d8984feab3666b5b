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
    public private(set) var entries: [ScheduleEntry]
    /// The repository every backup writes to (PRIMARY).
    public let backupRepository: String
    public private(set) var maxConcurrentJobs: Int
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
        for entry in entries { catchUp(entry, lastRuns: lastRuns, now: now) }
    }

    /// Queues `entry` once if it is overdue: never run (a backup since its source was
    /// configured, a drill since its plan was written), or its first slot after its last run passed.
    @discardableResult
    private mutating func catchUp(_ entry: ScheduleEntry, lastRuns: [ScheduleEntry.Job: Date], now: Date) -> ScheduledRun? {
        if Self.runsAtFirstStart(entry.job), !lastRuns.keys.contains(where: { $0.lane == entry.lane }) {
            return enqueue(entry.job, slot: now, isCatchUp: true, scheduleType: .scheduled)
        }
        var last = lastRuns[entry.job]
        if case .backup(let source, .incremental) = entry.job, let full = lastRuns[.backup(source: source, type: .full)] {
            last = max(last ?? full, full)
        }
        guard let last, let missed = entry.next(after: last), missed <= now else { return nil }
        return enqueue(entry.job, slot: missed, isCatchUp: true, scheduleType: .scheduled)
    }

    /// Takes a new configuration's schedule. An entry kept (same job, same timing) keeps its
    /// next slot; a new one is taken as at start (queued now when overdue, with `lastRuns`;
    /// else at its first slot); a removed one is no longer scheduled and its run still queued
    /// is dropped. Running jobs are left to end.
    /// - Parameter lastRuns: nil when the catalog could not tell: new entries wait for their first slot.
    /// - Returns: the runs this queued.
    public mutating func replace(entries new: [ScheduleEntry], maxConcurrentJobs: Int, lastRuns: [ScheduleEntry.Job: Date]?, now: Date) -> [ScheduledRun] {
        var kept: [String: Date?] = [:]
        for (i, entry) in entries.enumerated() { kept[entry.description] = nextSlots[i] }
        entries = new
        self.maxConcurrentJobs = max(1, maxConcurrentJobs)
        nextSlots = new.map { entry in kept[entry.description] ?? entry.firstSlot(after: now, lastRun: lastRuns?[entry.job]) }
        let lanes = Set(new.map(\.lane))
        queue.removeAll { $0.scheduleType == .scheduled && !lanes.contains($0.lane) }
        guard let lastRuns else { return [] }
        return new.filter { kept[$0.description] == nil }.compactMap { catchUp($0, lastRuns: lastRuns, now: now) }
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
