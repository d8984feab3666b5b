import Foundation
import LifeboatCatalog
import LifeboatCore

/// A job the scheduler hands to its runner: which lane, what to do, the slot it is for.
public struct ScheduledRun: Sendable, Equatable, CustomStringConvertible {
    /// Counts runs of one scheduler, in the order they were queued.
    public var sequence: Int
    public var lane: ScheduleEntry.Lane
    public var job: ScheduleEntry.Job
    /// The cron slot that made it due (the newest one, when several were merged).
    public var slot: Date
    /// Due while the daemon was down: run once at start for every slot it missed.
    public var isCatchUp: Bool
    /// SCHEDULED for cron slots and catch-ups; ON_CHANGE or MANUAL for runs asked for.
    public var scheduleType: ScheduleType
    /// When the scheduler started it (wall clock).
    public var startedAt: Date?

    /// A FULL backup is followed by a restoration test of its snapshot (the seed's rule).
    public var restorationTest: Bool {
        if case .backup(_, .full) = job { return true }
        return false
    }

    public var description: String {
        let what: String
        switch job {
        case .backup(let source, let type): what = "\(type.rawValue) of \(source)"
        case .prune(let repository): what = "prune of \(repository)"
        case .drill(let plan): what = "drill of \(plan)"
        }
        return isCatchUp ? "\(what) (catch-up)" : what
    }
}
