import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations
import LifeboatServer
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: the schedule of lifeboat.yaml, with /healthz, /readyz and /metrics over HTTP.",
        discussion: """
            Runs each source's schedules (cron expressions on the wall clock of their timeZone, \
            default server.timeZone, else the host's); a source without schedules gets the seed's: \
            FULL Sunday 02:00, INCREMENTAL daily 02:00 (FULL wins on Sunday), TRANSACTION_LOG every \
            4 hours for PostgreSQL. A FULL is followed by a restoration test; PRIMARY is pruned \
            weekly (server.prune). A slot missed while the daemon was down runs once at start, and \
            a source never backed up is backed up at start; a job due while its source is busy \
            waits and runs once; at most server.maxConcurrentJobs (2) at once. SIGTERM or SIGINT: \
            no new job starts, running ones get server.shutdownGraceSeconds (300) to finish, then \
            are cancelled and recorded INTERRUPTED. SIGHUP reads the configuration again: a valid \
            file replaces the schedule, an invalid one is refused (logged with its file:line) and \
            the running one stays. Each stored recovery plan with testing: every is drilled (TEST \
            mode) that long after its last successful drill. Logs go to stderr, plain or as JSON lines.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Option(name: .long, help: "HOST:PORT for /healthz, /readyz and /metrics (default: server.listen, then 127.0.0.1:8470; port 0 picks a free one).")
    var listen: String?

    @Option(name: .long, help: "plain or json (default: server.logFormat, then plain).")
    var logFormat: String?

    func run() async throws {
        // Jobs run side by side here, and one of them may hold a thread for minutes (libpq
        // waiting for pg_backup_stop's WAL): twice the cores, unless LIFEBOAT_IO_THREADS said.
        BlockingIOQueue.configure(threads: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))
        let config = try repository.requireConfiguration(for: "serve")
        let settings = config.serverSettings
        guard let address = ListenAddress(listen ?? settings.listen ?? LifeboatConfiguration.Server.defaultListen) else {
            throw ValidationError("--listen must be HOST:PORT such as 127.0.0.1:8470, not '\(listen ?? "")'")
        }
        let format = logFormat ?? settings.logFormat ?? "plain"
        guard format == "plain" || format == "json" else { throw ValidationError("--log-format must be plain or json, not '\(format)'") }
        let logger = Logger(label: "lifeboat.serve") { label in
            if format == "json" { return JSONLinesLogHandler(label: label) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        var context = try repository.context(for: "serve")
        context.logger = logger
        var jobs = ScheduledJobs(context: context, passphrase: try repository.passphrase())
        let options = repository
        jobs.walFetch = { location in try options.walRestoreCommand(at: location.path) }
        try await Daemon(jobs: jobs, listen: address, logger: logger).run()
    }
}
