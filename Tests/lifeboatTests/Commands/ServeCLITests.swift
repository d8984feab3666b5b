import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

/// `lifeboat serve` as a real process on loopback, and `lifeboat status` beside it: the
/// schedule's first run, SIGTERM and SIGKILL in the middle of a backup, `/metrics` against
/// the catalog.
@Suite("serve and status")
struct ServeCLITests {
    let scratch = ScratchDirectory("serve")
    let cli: LifeboatCLI
    let config: String
    let file: String

    /// One source with one file, so that a lease on it stops the backup in open(2) however
    /// fast the machine; a grace period of 0 s, so that SIGTERM cancels at once.
    init() throws {
        cli = try LifeboatCLI(scratch: scratch)
        let app = try scratch.sub("app")
        file = app + "/data.bin"
        var rng = SeededBytes(seed: 131)
        try FileTree.write(file, rng.bytes(300_000))
        config = scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(cli.repository) }
            sources:
              - { name: app, kind: files, paths: [\(app)], rpo: 30h }
            schedules:
              - { source: app, type: FULL, cron: "0 2 * * 0" }
              - { source: app, type: INCREMENTAL, cron: "0 2 * * *" }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            server: { timeZone: \(QuietTimeZone.awayFrom(hour: 2)), shutdownGraceSeconds: 0 }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.initialize()
    }

    var environment: [String: String] { cli.environment(config: config) }

    func log() throws -> [[String: Any]] {
        let out = try cli.run(["log", "--json"], environment: environment)
        return try #require(try LifeboatCLI.json(out) as? [[String: Any]], "\(out.stdout) \(out.stderr)")
    }

    /// Starts the daemon with the source's only file leased: its first backup (the source was
    /// never backed up) blocks opening it. Returns once it does.
    func daemonInsideItsFirstBackup() async throws -> (DaemonProcess, FileLeases) {
        let leases = try FileLeases([file])
        let wait = try EventWait()
        wait.wake(onSignal: SIGWINCH)
        let daemon = try await DaemonProcess.start(environment: environment)
        wait.wake(onEndOf: daemon.process)
        try await OffPool.run {
            try wait.until("the daemon's first backup to open the source's file", limit: .seconds(60)) {
                !leases.contended.isEmpty || !daemon.process.isRunning
            }
        }
        if !daemon.process.isRunning {
            let end = await daemon.exit()
            Issue.record("the daemon ended: \(end.log)")
            throw DaemonProcess.Failure(description: "the daemon ended before its first backup opened the file")
        }
        return (daemon, leases)
    }

    @Test("SIGTERM during a backup: no new job, the run is cancelled after the grace period and recorded INTERRUPTED, the repository checks clean", .timeLimit(.minutes(10)))
    func sigterm() async throws {
        let (daemon, leases) = try await daemonInsideItsFirstBackup()
        let ready = try await daemon.get("/readyz")
        #expect(ready.status == 200)
        daemon.signal(SIGTERM)
        let cancelling = await daemon.waitingFor("cancelling FULL of app")
        leases.releaseAll()
        let end = await daemon.exit()
        #expect(cancelling, "\(end.log)")
        #expect(end.status == 0, "\(end.log)")
        let rows = try log()
        #expect(rows.count == 1)
        #expect(rows.first?["status"] as? String == "INTERRUPTED", "\(rows)")
        #expect(rows.first?["scheduleType"] as? String == "SCHEDULED")
        let check = try cli.run(["check", "--read-data"], environment: environment)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
    }

    @Test("SIGKILL during a backup, then a restart: the run is INTERRUPTED and caught up once; /metrics and status match the catalog", .timeLimit(.minutes(10)))
    func sigkillThenRestart() async throws {
        let (first, leases) = try await daemonInsideItsFirstBackup()
        first.signal(SIGKILL)
        _ = await first.exit()
        leases.releaseAll()

        let daemon = try await DaemonProcess.start(environment: environment)
        #expect(await daemon.waitingFor("FULL of app (catch-up) done"), "\(daemon.log.output)")
        let metrics = try PrometheusText(try await daemon.get("/metrics").body)
        let health = try await daemon.get("/healthz")
        #expect(health.status == 200)
        daemon.signal(SIGTERM)
        let end = await daemon.exit()
        #expect(end.status == 0, "\(end.log)")

        let rows = try log()
        let byStatus = Dictionary(grouping: rows) { $0["status"] as? String ?? "" }
        #expect(byStatus["INTERRUPTED"]?.count == 1, "\(rows)")
        let succeeded = try #require(byStatus["SUCCEEDED"]?.first, "\(rows)")
        #expect(byStatus["SUCCEEDED"]?.count == 1)
        #expect(succeeded["requestedBy"] as? String == "scheduler (catch-up)")
        #expect(succeeded["type"] as? String == "FULL")
        #expect((succeeded["restoreTest"] as? [String: Any])?["result"] as? String == "PASSED", "a FULL is followed by a restoration test")

        // The metrics are the catalog's: the success time and the bytes of the run.
        let finishedText = try #require(succeeded["finishedAt"] as? String)
        let finished = try #require(ISO8601.parse(finishedText))
        let success = try #require(metrics.value("lifeboat_last_success_timestamp_seconds", ["source": "app", "type": "FULL"]))
        #expect(abs(success - finished.timeIntervalSince1970) < 1)
        #expect(metrics.value("lifeboat_last_run_read_bytes", ["source": "app", "type": "FULL"]) == (succeeded["bytesRead"] as? NSNumber)?.doubleValue)
        let lag = try #require(metrics.value("lifeboat_rpo_lag_seconds", ["source": "app"]))
        #expect(lag >= 0 && lag < 600)
        #expect(metrics.value("lifeboat_rpo_target_seconds", ["source": "app"]) == Double(30 * 3600))
        #expect(metrics.value("lifeboat_jobs_running") == 0)
        #expect(metrics.value("lifeboat_copies_pending", ["location": "primary"]) == 0)
        #expect(metrics.types["lifeboat_rpo_lag_seconds"] == "gauge")

        // The locations' state is `lifeboat locations`' own: PRIMARY answers, one location
        // does not make 3-2-1-1-0; PRIMARY's file system is the scratch folder's.
        let locations = try cli.run(["locations", "--json"], environment: environment)
        let assessed = try #require(try LifeboatCLI.json(locations) as? [String: Any], "\(locations.stdout) \(locations.stderr)")
        let primary = try #require((assessed["locations"] as? [[String: Any]])?.first)
        #expect(metrics.value("lifeboat_location_reachable", ["location": "primary"]) == ((primary["reachable"] as? Bool) == true ? 1 : 0))
        #expect(metrics.value("lifeboat_location_reachable", ["location": "primary"]) == 1)
        #expect(metrics.value("lifeboat_rule_3_2_1_1_0_met") == ((assessed["rule"] as? [String: Any])?["met"] as? Bool == true ? 1 : 0))
        let size = try #require(try FileManager.default.attributesOfFileSystem(forPath: cli.repository)[.systemSize] as? NSNumber)
        #expect(metrics.value("lifeboat_primary_size_bytes", ["location": "primary"]) == size.doubleValue)
        let free = try #require(metrics.value("lifeboat_primary_free_bytes", ["location": "primary"]))
        #expect(free > 0 && free <= size.doubleValue)

        // status says the same from the catalog alone, the daemon gone: all is well.
        let status = try cli.run(["status", "--json"], environment: environment)
        #expect(status.status == 0, "\(status.stdout) \(status.stderr)")
        let report = try #require(try LifeboatCLI.json(status) as? [String: Any])
        let sources = try #require(report["sources"] as? [[String: Any]])
        let app = try #require(sources.first)
        #expect(app["source"] as? String == "app" && app["sourceKind"] as? String == "files", "\(app)")
        #expect(app["rpoTargetSeconds"] as? Double == Double(30 * 3600))
        let types = try #require(app["types"] as? [[String: Any]])
        let full = try #require(types.first { $0["type"] as? String == "FULL" })
        #expect(full["lastSuccess"] as? String == succeeded["finishedAt"] as? String)
        #expect(full["nextRun"] as? String != nil)
        #expect((report["problems"] as? [String])?.isEmpty == true, "\(report)")
    }

    @Test("a write in a watched folder gives a CONFIGURATION snapshot within 10 s, recorded ON_CHANGE", .timeLimit(.minutes(10)))
    func onChange() async throws {
        let conf = try scratch.sub("conf")
        try FileTree.write(conf + "/app.yaml", Array("pool: 8\n".utf8))
        let watchConfig = scratch.path + "/watch.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(cli.repository) }
            sources:
              - { name: conf, kind: files, paths: [\(conf)] }
            schedules:
              - { source: conf, type: CONFIGURATION, cron: "@yearly", scheduleType: ON_CHANGE }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            server: { timeZone: \(QuietTimeZone.awayFrom(hour: 2)), changeDebounceSeconds: 0.5 }
            """.write(toFile: watchConfig, atomically: true, encoding: .utf8)
        let env = cli.environment(config: watchConfig)
        let daemon = try await DaemonProcess.start(environment: env)
        #expect(await daemon.waitingFor("for changes to conf (inotify)"), "\(daemon.log.output)")
        let wrote = ContinuousClock.now
        try FileTree.write(conf + "/app.yaml", Array("pool: 16\n".utf8))
        #expect(await daemon.waitingFor("CONFIGURATION of conf done", limit: .seconds(10)), "\(daemon.log.output)")
        #expect(ContinuousClock.now - wrote < .seconds(10))
        daemon.signal(SIGTERM)
        let end = await daemon.exit()
        #expect(end.status == 0, "\(end.log)")
        let out = try cli.run(["log", "--json"], environment: env)
        let rows = try #require(try LifeboatCLI.json(out) as? [[String: Any]])
        #expect(rows.count == 1, "one burst, one run: \(rows)")
        #expect(rows.first?["type"] as? String == "CONFIGURATION")
        #expect(rows.first?["scheduleType"] as? String == "ON_CHANGE")
        #expect(rows.first?["status"] as? String == "SUCCEEDED")
    }

    @Test("alerts: a failed job, a source without a restorable point and the 3-2-1-1-0 rule not met reach each webhook once, survive a restart; the first two resolve once a run succeeds", .timeLimit(.minutes(10)))
    func alerts() async throws {
        let receiver = try WebhookReceiver(directory: scratch.path + "/hooks")
        let later = scratch.path + "/later"
        let alertConfig = scratch.path + "/alerts.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(cli.repository) }
            sources:
              - { name: late, kind: files, paths: [\(later)] }
            schedules:
              - { source: late, type: FULL, cron: "0 2 * * 0" }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            server: { timeZone: \(QuietTimeZone.awayFrom(hour: 2)) }
            alerts:
              evaluateSeconds: 0.2
              primaryMinFreePercent: 0
              webhooks:
                - { name: ops, kind: json, url: "\(receiver.url("json"))" }
                - { name: chat, kind: slack, url: "\(receiver.url("slack"))" }
                - { name: pager, kind: pagerduty, url: "\(receiver.url("pagerduty"))", routingKeyEnv: LIFEBOAT_TEST_PD_KEY }
            """.write(toFile: alertConfig, atomically: true, encoding: .utf8)
        var env = cli.environment(config: alertConfig)
        env["LIFEBOAT_TEST_PD_KEY"] = "test-routing-key"
        let wait = try EventWait()
        try wait.watch(tree: receiver.directory)
        // One location: the 3-2-1-1-0 rule is not met, and stays so (it never resolves here).
        let conditions: Set<String> = ["last-run:late:FULL", "no-restorable-point:late"]
        let firingConditions = conditions.union(["rule-3-2-1-1-0"])

        // The source's folder is missing: its first FULL fails.
        let first = try await DaemonProcess.start(environment: env)
        wait.wake(onEndOf: first.process)
        do {
            try await OffPool.run {
                try wait.until("three alerts on each of three webhooks", limit: .seconds(60)) { receiver.deliveries.count >= 9 || !first.process.isRunning }
            }
        } catch {
            first.signal(SIGKILL)
            let end = await first.exit()
            Issue.record("\(error): \(end.log)")
            throw error
        }
        first.signal(SIGTERM)
        let firstEnd = await first.exit()
        #expect(firstEnd.status == 0, "\(firstEnd.log)")
        let firing = receiver.deliveries
        #expect(firing.count == 9)
        let json = firing.filter { $0.path == "json" }.map(\.body)
        #expect(Set(json.compactMap { $0["condition"] as? String }) == firingConditions, "\(json)")
        #expect(json.allSatisfy { $0["status"] as? String == "firing" })
        let slack = firing.filter { $0.path == "slack" }.compactMap { $0.body["text"] as? String }
        #expect(slack.count == 3 && slack.contains { $0.contains("source 'late' has no successful backup") }, "\(slack)")
        #expect(slack.contains { $0.contains("the 3-2-1-1-0 rule is not met") }, "\(slack)")
        let pager = firing.filter { $0.path == "pagerduty" }.map(\.body)
        #expect(pager.count == 3 && pager.allSatisfy { $0["event_action"] as? String == "trigger" && $0["routing_key"] as? String == "test-routing-key" })

        // Restarted with the folder there: the failed FULL is run again and succeeds; each
        // condition resolves once, and none fires a second time (the alerts outlived the restart).
        try FileManager.default.createDirectory(atPath: later, withIntermediateDirectories: true)
        try FileTree.write(later + "/data.txt", Array("now here\n".utf8))
        let second = try await DaemonProcess.start(environment: env)
        wait.wake(onEndOf: second.process)
        do {
            try await OffPool.run {
                try wait.until("their resolution on each webhook", limit: .seconds(60)) { receiver.deliveries.count >= 15 || !second.process.isRunning }
            }
        } catch {
            second.signal(SIGKILL)
            let end = await second.exit()
            Issue.record("\(error): \(end.log)")
            throw error
        }
        second.signal(SIGTERM)
        let secondEnd = await second.exit()
        #expect(secondEnd.status == 0, "\(secondEnd.log)")
        let resolved = Array(receiver.deliveries.dropFirst(9))
        #expect(resolved.count == 6, "the rule's alert, still open, is not sent again: \(resolved.map(\.body))")
        let resolvedJSON = resolved.filter { $0.path == "json" }.map(\.body)
        #expect(Set(resolvedJSON.compactMap { $0["condition"] as? String }) == conditions)
        #expect(resolvedJSON.allSatisfy { $0["status"] as? String == "resolved" })
        let resolvedPager = resolved.filter { $0.path == "pagerduty" }.map(\.body)
        #expect(resolvedPager.allSatisfy { $0["event_action"] as? String == "resolve" })
        #expect(Set(resolvedPager.compactMap { $0["dedup_key"] as? String }) == Set(pager.compactMap { $0["dedup_key"] as? String }.filter { !$0.hasSuffix("rule-3-2-1-1-0") }))
    }

    @Test("a plan with testing: every is drilled at start as `recover run --test` drills it; /metrics and status say when and how it went", .timeLimit(.minutes(10)))
    func drill() async throws {
        let backup = try cli.run(["run", "app"], environment: environment)
        #expect(backup.status == 0, "\(backup.stderr)")
        let planFile = scratch.path + "/orders.yaml"
        try "name: orders\nsystemType: IMPORTANT\nsteps:\n  - {name: restore, type: RESTORE_BACKUP, source: app}\ntesting: {every: 1h}\n"
            .write(toFile: planFile, atomically: true, encoding: .utf8)
        let created = try cli.run(["plan", "create", planFile], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        // The drill's sandbox goes here, so that one left behind is seen.
        let sandboxes = try scratch.sub("tmp")
        var env = environment
        env["TMPDIR"] = sandboxes

        let daemon = try await DaemonProcess.start(environment: env)
        #expect(await daemon.waitingFor("drill of orders (catch-up) done"), "\(daemon.log.output)")
        let metrics = try PrometheusText(try await daemon.get("/metrics").body)
        daemon.signal(SIGTERM)
        let end = await daemon.exit()
        #expect(end.status == 0, "\(end.log)")
        #expect(end.log.contains("schedule: drill of orders every 1h"), "\(end.log)")

        let listed = try cli.run(["recover", "list", "--plan", "orders", "--json"], environment: env)
        let executions = try #require(try LifeboatCLI.json(listed) as? [[String: Any]], "\(listed.stdout) \(listed.stderr)")
        #expect(executions.count == 1, "one drill: \(executions)")
        let drill = try #require(executions.first)
        #expect(drill["mode"] as? String == "TEST")
        #expect(drill["status"] as? String == "SUCCEEDED", "\(drill)")
        #expect(drill["user"] as? String == "scheduler (catch-up)")
        let steps = try #require(drill["steps"] as? [[String: Any]])
        #expect(steps.map { $0["status"] as? String } == ["SUCCEEDED"], "\(steps)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandboxes).isEmpty, "the drill's sandbox is removed")
        #expect(try log().count == 1, "the daemon drilled, and had no backup to catch up")

        let finishedText = try #require(drill["finishedAt"] as? String)
        let finished = try #require(ISO8601.parse(finishedText))
        let drilled = try #require(metrics.value("lifeboat_last_drill_timestamp_seconds", ["plan": "orders"]))
        #expect(abs(drilled - finished.timeIntervalSince1970) < 1)
        #expect(metrics.value("lifeboat_last_drill_passed", ["plan": "orders"]) == 1)
        #expect(metrics.value("lifeboat_drill_interval_seconds", ["plan": "orders"]) == 3600)
        #expect(metrics.types["lifeboat_last_drill_passed"] == "gauge")

        let status = try cli.run(["status", "--json"], environment: env)
        #expect(status.status == 0, "\(status.stdout) \(status.stderr)")
        let report = try #require(try LifeboatCLI.json(status) as? [String: Any])
        let plan = try #require((report["plans"] as? [[String: Any]])?.first, "\(report)")
        #expect(plan["name"] as? String == "orders")
        #expect(plan["lastDrillPassed"] as? Bool == true)
        #expect(plan["nextDrillDue"] as? String != nil)
    }

    @Test("SIGHUP: an invalid lifeboat.yaml is refused with its file:line and the schedule stays; a valid one replaces it, a new source backed up at once, and the API sees it", .timeLimit(.minutes(10)))
    func reload() async throws {
        let backup = try cli.run(["run", "app"], environment: environment)
        #expect(backup.status == 0, "\(backup.stderr)")
        let created = try cli.run(["token", "create", "--name", "reader", "--role", "auditor"], environment: environment)
        let token = created.stdout.trimmingCharacters(in: .newlines)
        let daemon = try await DaemonProcess.start(environment: environment)
        #expect(await daemon.waitingFor("SIGHUP reloads \(config)"), "\(daemon.log.output)")
        #expect(await daemon.waitingFor("ready: the schedule runs"), "\(daemon.log.output)")
        let original = try String(contentsOfFile: config, encoding: .utf8)
        #expect(original.split(separator: "\n", omittingEmptySubsequences: false).count == 9)

        // Line 10 is a mistyped key: refused, and the daemon goes on with what it had.
        try (original + "\nschedulez: []\n").write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(await daemon.waitingFor("the new configuration is refused, the running one stays: \(config):10"), "\(daemon.log.output)")
        #expect(try await daemon.get("/readyz").status == 200)

        // A new source without schedules (the seed's), and app's INCREMENTAL removed.
        let conf = try scratch.sub("conf")
        try FileTree.write(conf + "/app.yaml", Array("pool: 8\n".utf8))
        let changed = original
            .replacingOccurrences(of: "sources:\n", with: "sources:\n  - { name: conf, kind: files, paths: [\(conf)] }\n")
            .replacingOccurrences(of: "  - { source: app, type: INCREMENTAL, cron: \"0 2 * * *\" }\n", with: "")
        #expect(changed != original)
        try changed.write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(await daemon.waitingFor("reloaded: 4 schedule entries"), "\(daemon.log.output)")
        #expect(await daemon.waitingFor("FULL of conf (catch-up) done"), "\(daemon.log.output)")
        // The API answers from the new file too: the new source is one of its sources.
        let sources = try await daemon.get("/api/sources", token: token)
        #expect(sources.status == 200 && sources.body.contains("\"conf\""), "\(sources.body)")
        daemon.signal(SIGTERM)
        let end = await daemon.exit()
        #expect(end.status == 0, "\(end.log)")
        let afterReload = end.log.components(separatedBy: "reloaded: 4 schedule entries")[0].components(separatedBy: "SIGHUP: reading").last ?? ""
        #expect(afterReload.contains("schedule: INCREMENTAL of conf at '0 2 * * *'"), "\(end.log)")
        #expect(!afterReload.contains("schedule: INCREMENTAL of app"), "app's INCREMENTAL is no longer scheduled: \(end.log)")

        let rows = try log()
        #expect(rows.count == 2, "\(rows)")
        let scheduled = try #require(rows.first { $0["source"] as? String == "conf" }, "\(rows)")
        #expect(scheduled["status"] as? String == "SUCCEEDED")
        #expect(scheduled["requestedBy"] as? String == "scheduler (catch-up)")
    }

    @Test("status with a source never backed up needs a person: exit 3 and the sentence that says so")
    func statusNeedsAPerson() throws {
        let out = try cli.run(["status"], environment: environment)
        #expect(out.status == 3, "\(out.stdout) \(out.stderr)")
        #expect(out.stdout.contains("source 'app' has no successful backup: run `lifeboat run app`"), "\(out.stdout)")
    }
}
