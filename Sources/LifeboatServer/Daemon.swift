import Foundation
import Hummingbird
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import Logging
import ServiceLifecycle

/// `lifeboat serve`: one ServiceGroup (DESIGN §2, §10) with the HTTP listener (health and
/// metrics; the API adds its routes to the same router), the change watcher (ON_CHANGE
/// schedules), the alert dispatcher and the scheduler. SIGTERM or SIGINT shuts the group down gracefully in reverse
/// order: the scheduler first (no new job; running ones get `shutdownGrace`, then are
/// cancelled and recorded INTERRUPTED), then the alerts and the watcher, the listener last, so that
/// `/metrics` is still there while jobs drain.
///
/// Disaster-recovery drills are scheduled beside the backups: each stored plan with `testing:
/// every` is drilled (a TEST-mode execution) that long after its last successful drill; plans
/// are read at start.
public struct Daemon: Sendable {
    /// The jobs under the configuration of now: the scheduler, the API and the console read
    /// them here, so that all follow a SIGHUP reload.
    let live: LiveJobs
    public var jobs: ScheduledJobs { live.jobs }
    public var listen: ListenAddress
    public var logger: Logger
    public let metrics = DaemonMetrics()
    public let apiWork = APIWork()
    /// The console's logged-in browsers (memory only: a restart logs everyone out).
    public let consoleSessions = ConsoleSessions()
    /// Reads the locations for `/metrics` and the alerts (a result shared for 30 s).
    public let probe: HealthProbe
    /// Failed authentications let through per address (a role-matrix test raises it).
    public var authenticationThrottle = AuthenticationThrottle.Policy()
    /// Called with the listener's base URL ("http://127.0.0.1:8470") once it listens: the
    /// quickstart prints the console's address from it.
    public var onListening: (@Sendable (String) -> Void)?

    public init(jobs: ScheduledJobs, listen: ListenAddress, logger: Logger) {
        live = LiveJobs(jobs)
        self.listen = listen
        self.logger = logger
        probe = HealthProbe(context: jobs.context, passphrase: jobs.passphrase)
    }

    var context: OperationsContext { jobs.context }

    /// Runs until SIGTERM or SIGINT (or cancellation).
    /// - Throws: ``ConfigurationError`` for a configuration without PRIMARY or with a schedule
    ///   that does not parse; the catalog's and the listener's errors at start.
    public func run() async throws {
        let config = context.configuration
        let settings = config.serverSettings
        let entries = try config.scheduleEntries() + (try await jobs.drillEntries())
        let primary = try config.requirePrimary()
        let live = self.live
        let metrics = self.metrics
        let logger = self.logger
        var scheduler = Scheduler(
            entries: entries, backupRepository: primary.name, clock: context.clock, lastRuns: { try await live.jobs.lastRuns() },
            perform: { run in _ = await live.jobs.perform(run) })
        scheduler.maxConcurrentJobs = settings.maxConcurrentJobs ?? LifeboatConfiguration.Server.defaultMaxConcurrentJobs
        scheduler.shutdownGrace = settings.shutdownGrace
        let requests = ScheduleRequests()
        scheduler.requests = requests
        let reloads = ScheduleReloads()
        scheduler.reloads = reloads
        scheduler.observe = { event in
            if metrics.observe(event) { logger.notice("ready: the schedule runs") }
            Self.log(event, logger)
        }
        for entry in entries { logger.info("schedule: \(entry)") }

        let alerts = try AlertDispatcher(context: context)
        let listen = self.listen
        let onListening = self.onListening
        let scheme = ListenerTLS.scheme(settings.tls)
        let app = Application(
            router: router(),
            server: try ListenerTLS.server(settings.tls),
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "lifeboat"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? listen.port
                let base = "\(scheme)://\(ListenAddress("\(listen.host):\(port)")?.description ?? listen.description)"
                logger.notice("listening on \(base); the console is \(base)/console")
                onListening?(base)
            },
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: app),
                    .init(
                        service: ChangeWatcherService(
                            watches: config.changeWatches(), requests: requests, debounce: settings.changeDebounce, clock: context.clock, logger: logger)),
                    .init(
                        service: AlertService(
                            dispatcher: alerts, probe: probe, interval: config.alerts?.evaluateInterval ?? .seconds(60), clock: context.clock, logger: logger)),
                    .init(service: SchedulerService(scheduler: scheduler)),
                    .init(service: APIWorkService(work: apiWork, grace: settings.shutdownGrace, clock: context.clock)),
                    .init(service: ReloadService(file: config.file, live: live, reloads: reloads, logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.notice("stopped")
    }

    /// `/healthz` (the process answers), `/readyz` (the scheduler runs its schedule),
    /// `/metrics` (Prometheus text), the API under `/api` and the console under `/console`.
    public func router() -> Router<LifeboatRequestContext> {
        let router = Router(context: LifeboatRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        let throttle = AuthenticationThrottle(policy: authenticationThrottle, clock: context.clock)
        router.add(middleware: AccessMiddleware(context: self.context, throttle: throttle))
        let metrics = self.metrics
        let live = self.live
        let probe = self.probe
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            metrics.isReady ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
                : Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "starting or stopping\n")))
        }
        router.get("metrics") { _, _ -> Response in
            let context = live.jobs.context
            let report = try await StatusReport.load(context)
            metrics.update(from: report)
            metrics.update(from: await probe.current(), configuration: context.configuration, now: report.generatedAt)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        let handler = addAPI(to: router)
        Console(
            handler: handler, sessions: consoleSessions, tokens: AccessTokens(context: context), throttle: throttle,
            secureCookies: context.configuration.serverSettings.tls != nil
        ).register(on: router)
        return router
    }

    static func log(_ event: SchedulerEvent, _ logger: Logger) {
        switch event {
        case .queued(let run): logger.debug("queued \(run)")
        case .started(let run): logger.debug("started \(run)", metadata: ["lane": "\(run.lane)"])
        case .finished(let run): logger.debug("finished \(run)")
        case .waiting(let w): logger.debug("waiting", metadata: ["until": "\(w.until.map { ISO8601.format($0) } ?? "-")", "running": "\(w.running)"])
        case .stopping(let running):
            logger.notice("stopping: no new job starts; \(running.count) running job(s) may finish within the grace period")
        case .cancelling(let runs): logger.warning("the grace period ran out: cancelling \(runs.map(\.description).joined(separator: ", "))")
        case .reloaded(let entries):
            for entry in entries { logger.info("schedule: \(entry)") }
            logger.notice("reloaded: \(entries.count) schedule entries")
        }
    }
}
