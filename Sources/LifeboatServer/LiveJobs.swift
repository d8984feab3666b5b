import LifeboatOperations
import Synchronization

/// The daemon's jobs with the configuration they run under, replaced when lifeboat.yaml is
/// read again (SIGHUP): a job started after the reload runs under the new configuration (a
/// new source's paths), one already running keeps the one it started with.
final class LiveJobs: Sendable {
    private let current: Mutex<ScheduledJobs>

    init(_ jobs: ScheduledJobs) {
        current = Mutex(jobs)
    }

    var jobs: ScheduledJobs { current.withLock { $0 } }

    func replace(configuration: LifeboatConfiguration) {
        current.withLock { $0.context.configuration = configuration }
    }
}
