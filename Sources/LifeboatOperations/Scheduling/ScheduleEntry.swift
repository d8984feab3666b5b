import Foundation
import LifeboatCatalog
import LifeboatCore

/// One recurring job of the daemon: what runs (a backup type of a source, or a prune of a
/// repository), when (a cron expression on a zone's wall clock), and on which lane.
public struct ScheduleEntry: Sendable, CustomStringConvertible {
    /// What the scheduler keeps apart: a lane runs one job at a time and queues at most one.
    /// FULL and INCREMENTAL of a source share a lane, so when both are due, one run (FULL) covers both.
    public enum Lane: Hashable, Sendable, CustomStringConvertible, Comparable {
        case backup(source: String)
        case transactionLog(source: String)
        case prune(repository: String)

        /// The source whose jobs never overlap, nil for a prune.
        public var source: String? {
            switch self {
            case .backup(let s), .transactionLog(let s): return s
            case .prune: return nil
            }
        }

        public var description: String {
            switch self {
            case .backup(let s): return "backup of \(s)"
            case .transactionLog(let s): return "transaction log of \(s)"
            case .prune(let r): return "prune of \(r)"
            }
        }

        public static func < (a: Lane, b: Lane) -> Bool { a.description < b.description }
    }

    public enum Job: Hashable, Sendable {
        case backup(source: String, type: BackupType)
        case prune(repository: String)

        public var lane: Lane {
            switch self {
            case .backup(let source, .transactionLog): return .transactionLog(source: source)
            case .backup(let source, _): return .backup(source: source)
            case .prune(let repository): return .prune(repository: repository)
            }
        }
    }

    public var job: Job
    public var cron: CronExpression
    public var timeZone: TimeZone

    public init(job: Job, cron: CronExpression, timeZone: TimeZone) {
        self.job = job
        self.cron = cron
        self.timeZone = timeZone
    }

    public var lane: Lane { job.lane }

    /// The next slot strictly after `date`.
    public func next(after date: Date) -> Date? { cron.next(after: date, in: timeZone) }

    public var description: String {
        switch job {
        case .backup(let source, let type): return "\(type.rawValue) of \(source) at '\(cron)' (\(timeZone.identifier))"
        case .prune(let repository): return "prune of \(repository) at '\(cron)' (\(timeZone.identifier))"
        }
    }
}
