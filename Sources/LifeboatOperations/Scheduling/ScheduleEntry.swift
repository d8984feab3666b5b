import Foundation
import LifeboatCatalog
import LifeboatCore

/// One recurring job of the daemon: what runs (a backup type of a source, a prune of a
/// repository, a drill of a recovery plan), when (a cron expression on a zone's wall clock,
/// or a fixed interval after the last run), and on which lane.
public struct ScheduleEntry: Sendable, CustomStringConvertible {
    /// What the scheduler keeps apart: a lane runs one job at a time and queues at most one.
    /// FULL and INCREMENTAL of a source share a lane, so when both are due, one run (FULL) covers both.
    public enum Lane: Hashable, Sendable, CustomStringConvertible, Comparable {
        case backup(source: String)
        case transactionLog(source: String)
        case prune(repository: String)
        case drill(plan: String)

        /// The source whose jobs never overlap, nil for a prune or a drill.
        public var source: String? {
            switch self {
            case .backup(let s), .transactionLog(let s): return s
            case .prune, .drill: return nil
            }
        }

        /// Reads the backup repository (a prune must not delete what it reads); a prune is
        /// the repository's writer, not a reader.
        var readsRepository: Bool {
            if case .prune = self { return false }
            return true
        }

        public var description: String {
            switch self {
            case .backup(let s): return "backup of \(s)"
            case .transactionLog(let s): return "transaction log of \(s)"
            case .prune(let r): return "prune of \(r)"
            case .drill(let p): return "drill of \(p)"
            }
        }

        public static func < (a: Lane, b: Lane) -> Bool { a.description < b.description }
    }

    public enum Job: Hashable, Sendable {
        case backup(source: String, type: BackupType)
        case prune(repository: String)
        /// A TEST-mode execution of a recovery plan's newest revision.
        case drill(plan: String)

        public var lane: Lane {
            switch self {
            case .backup(let source, .transactionLog): return .transactionLog(source: source)
            case .backup(let source, _): return .backup(source: source)
            case .prune(let repository): return .prune(repository: repository)
            case .drill(let plan): return .drill(plan: plan)
            }
        }
    }

    /// When an entry's slots come.
    public enum Timing: Sendable {
        /// On the wall clock of a zone (daylight saving as ``CronExpression`` handles it).
        case cron(CronExpression, TimeZone)
        /// A fixed interval after the last run (a plan's `testing: every`): the next slot is
        /// the last run's start plus the interval.
        case every(Duration)
    }

    public var job: Job
    public var timing: Timing

    public init(job: Job, cron: CronExpression, timeZone: TimeZone) {
        self.job = job
        timing = .cron(cron, timeZone)
    }

    public init(job: Job, every: Duration) {
        self.job = job
        timing = .every(every)
    }

    public var lane: Lane { job.lane }

    /// The next slot strictly after `date`.
    public func next(after date: Date) -> Date? {
        switch timing {
        case .cron(let cron, let zone): return cron.next(after: date, in: zone)
        case .every(let interval): return date.addingTimeInterval(max(1, interval.seconds))
        }
    }

    /// The first slot the scheduler waits for after starting at `now`, knowing the last run:
    /// for an interval, the last run plus the interval when that is still to come (a slot
    /// already passed is the catch-up's).
    func firstSlot(after now: Date, lastRun: Date?) -> Date? {
        if case .every = timing, let lastRun, let slot = next(after: lastRun), slot > now { return slot }
        return next(after: now)
    }

    public var description: String {
        let when: String
        switch timing {
        case .cron(let cron, let zone): when = "at '\(cron)' (\(zone.identifier))"
        case .every(let interval): when = "every \(PlanDuration(seconds: Int64(interval.seconds)))"
        }
        switch job {
        case .backup(let source, let type): return "\(type.rawValue) of \(source) \(when)"
        case .prune(let repository): return "prune of \(repository) \(when)"
        case .drill(let plan): return "drill of \(plan) \(when)"
        }
    }
}
