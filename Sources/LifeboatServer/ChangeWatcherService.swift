import Foundation
import LifeboatCore
import LifeboatOperations
import Logging
import ServiceLifecycle

/// The change watcher as one of the daemon's services: a ``ChangeWatcher`` per ON_CHANGE
/// schedule, each burst of changes asking the scheduler for one run of its source (queued
/// by the usual rules: a run already waiting absorbs it). Stops on graceful shutdown.
struct ChangeWatcherService: Service {
    let watches: [LifeboatConfiguration.ChangeWatch]
    let requests: ScheduleRequests
    let debounce: Duration
    let clock: any Clock<Duration>
    let logger: Logger

    func run() async throws {
        guard !watches.isEmpty else {
            // Nothing to watch: a service that returns early would end the group; wait for the end.
            try? await gracefulShutdown()
            return
        }
        try await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for watch in watches {
                    let watcher = ChangeWatcher(roots: watch.paths)
                    logger.info("watching \(watch.paths.joined(separator: ", ")) for changes to \(watch.source) (\(watcher.mode))")
                    group.addTask {
                        await watcher.watch(debounce: debounce, clock: clock) { paths in
                            logger.info("\(paths.count) change(s) in \(watch.source): asking for a \(watch.type.rawValue)")
                            requests.post(.init(job: .backup(source: watch.source, type: watch.type), scheduleType: .onChange))
                        }
                    }
                }
            }
        }
    }
}
