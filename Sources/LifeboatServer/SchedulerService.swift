import LifeboatOperations
import ServiceLifecycle

/// The scheduler as one of the daemon's services: a graceful shutdown (SIGTERM, SIGINT)
/// stops it starting jobs and gives running ones their grace period; a cancellation stops
/// them at once.
struct SchedulerService: Service {
    let scheduler: Scheduler

    func run() async throws {
        try await scheduler.run(until: {
            // Throws only when cancelled, which stops the scheduler anyway.
            try? await gracefulShutdown()
        })
    }
}
