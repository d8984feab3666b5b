import Foundation

/// What the scheduler reports as it goes: the daemon turns these into logs and metrics
/// (jobs running and queued), the tests into a timeline.
public enum SchedulerEvent: Sendable {
    case queued(ScheduledRun)
    case started(ScheduledRun)
    case finished(ScheduledRun)
    /// The scheduler waits for its next slot or a job's end; sent once per turn of its loop,
    /// after every run it could start was started.
    case waiting(Waiting)
    /// A stop was asked for: no job starts any more; running ones have the grace period.
    case stopping(running: [ScheduledRun])
    /// The grace period ran out: these runs are cancelled.
    case cancelling([ScheduledRun])
    /// A new schedule replaced the old one (``ScheduleReloads``).
    case reloaded([ScheduleEntry])

    public struct Waiting: Sendable {
        /// The next slot the scheduler wakes for, nil if none (or stopping).
        public var until: Date?
        public var running: Int
        public var queued: Int
        /// Turns of the loop so far, and runs it saw finish: a test that moved time or ended a
        /// run knows from these that the scheduler has seen it.
        public var turn: Int
        public var finishedRuns: Int

        public init(until: Date?, running: Int, queued: Int, turn: Int, finishedRuns: Int) {
            self.until = until
            self.running = running
            self.queued = queued
            self.turn = turn
            self.finishedRuns = finishedRuns
        }
    }
}
