import Foundation
import LifeboatOperations
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP reads lifeboat.yaml again, as one of the daemon's services. A file that loads and
/// validates replaces the schedule (running jobs go on; new entries are scheduled, overdue
/// ones at once; removed ones no longer) and the configuration later jobs run under; one that
/// does not is refused with its file:line, and the running configuration stays. The API, the
/// console and /metrics read it through ``LiveJobs``; the listener, the change watcher and
/// the alerts keep the configuration they started with until a restart.
struct ReloadService: Service {
    let file: String
    let live: LiveJobs
    let reloads: ScheduleReloads
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        // Said once the signal is trapped: before this, SIGHUP would end the process.
        logger.info("SIGHUP reloads \(file)")
        try await cancelWhenGracefulShutdown {
            for await _ in hangups { await reload() }
        }
    }

    func reload() async {
        logger.notice("SIGHUP: reading \(file) again")
        do {
            let configuration = try LifeboatConfiguration.load(file)
            _ = try configuration.requirePrimary()
            var jobs = live.jobs
            jobs.context.configuration = configuration
            let entries = try configuration.scheduleEntries() + (try await jobs.drillEntries())
            live.replace(configuration: configuration)
            reloads.post(
                .init(
                    entries: entries,
                    maxConcurrentJobs: configuration.serverSettings.maxConcurrentJobs ?? LifeboatConfiguration.Server.defaultMaxConcurrentJobs))
        } catch {
            logger.error("the new configuration is refused, the running one stays: \(error)")
        }
    }
}
