import CoreMetrics
import Foundation
import LifeboatOperations
import Metrics
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics, through swift-metrics on a registry of its own (not the
/// process-wide bootstrap, so that several daemons can live in one test process). Names
/// carry their unit (`_seconds`, `_bytes`, `_timestamp_seconds`).
///
/// What the catalog knows (last success, RPO lag, pending copies, restoration tests, drills) is
/// read afresh at each scrape from a ``StatusReport``, so `/metrics` always matches
/// `lifeboat status`; what only the scheduler knows (jobs running and queued) is set as its
/// events come.
public final class DaemonMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private enum Phase { case starting, ready, stopping }
    private let phase = Mutex(Phase.starting)

    public init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
        gauge("lifeboat_jobs_running").record(0)
        gauge("lifeboat_jobs_queued").record(0)
    }

    /// Ready once the scheduler has read its history and waits for its first slot.
    public var isReady: Bool { phase.withLock { $0 == .ready } }

    func gauge(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
    }

    /// Follows the scheduler's events.
    /// - Returns: true when this event made the daemon ready.
    @discardableResult
    public func observe(_ event: SchedulerEvent) -> Bool {
        switch event {
        case .waiting(let w):
            gauge("lifeboat_jobs_running").record(w.running)
            gauge("lifeboat_jobs_queued").record(w.queued)
            return phase.withLock { p in
                guard p == .starting else { return false }
                p = .ready
                return true
            }
        case .stopping:
            phase.withLock { $0 = .stopping }
        default:
            break
        }
        return false
    }

    /// Sets the catalog's gauges from `report`.
    public func update(from report: StatusReport) {
        for source in report.sources {
            let s = [("source", source.name)]
            for t in source.types {
                let labels = s + [("type", t.type)]
                if let v = t.lastSuccess { gauge("lifeboat_last_success_timestamp_seconds", labels).record(v.timeIntervalSince1970) }
                if let v = t.lastDurationSeconds { gauge("lifeboat_last_run_duration_seconds", labels).record(v) }
                if let v = t.lastBytesRead { gauge("lifeboat_last_run_read_bytes", labels).record(v) }
                if let v = t.lastBytesAdded { gauge("lifeboat_last_run_added_bytes", labels).record(v) }
                if let v = t.nextRun { gauge("lifeboat_next_run_timestamp_seconds", labels).record(v.timeIntervalSince1970) }
            }
            if let lag = source.rpoLagSeconds { gauge("lifeboat_rpo_lag_seconds", s).record(lag) }
            gauge("lifeboat_rpo_target_seconds", s).record(source.rpoTargetSeconds)
            if let tested = source.lastRestorationTest {
                gauge("lifeboat_last_restoration_test_timestamp_seconds", s).record(tested.timeIntervalSince1970)
                gauge("lifeboat_last_restoration_test_passed", s).record(source.lastRestorationTestPassed == true ? 1 : 0)
            }
        }
        for location in report.locations {
            let l = [("location", location.name)]
            gauge("lifeboat_copies_pending", l).record(location.pendingCopies)
            gauge("lifeboat_oldest_pending_copy_age_seconds", l).record(location.oldestPendingSeconds ?? 0)
        }
        for plan in report.plans {
            let p = [("plan", plan.name)]
            if let every = plan.drillEverySeconds { gauge("lifeboat_drill_interval_seconds", p).record(every) }
            if let drilled = plan.lastDrill {
                gauge("lifeboat_last_drill_timestamp_seconds", p).record(drilled.timeIntervalSince1970)
                gauge("lifeboat_last_drill_passed", p).record(plan.lastDrillPassed == true ? 1 : 0)
            }
        }
        gauge("lifeboat_problems").record(report.problems.count)
    }

    /// Sets the locations' gauges from a probe: reachable (1/0) per location, the 3-2-1-1-0
    /// verdict, PRIMARY's free space, and per PostgreSQL source the newest archived WAL
    /// segment's push time and the RPO it gives (now minus that time).
    public func update(from probe: HealthProbe.Result, configuration: LifeboatConfiguration, now: Date) {
        for l in probe.locations { gauge("lifeboat_location_reachable", [("location", l.name)]).record(l.reachable ? 1 : 0) }
        gauge("lifeboat_rule_3_2_1_1_0_met").record(probe.ruleMet ? 1 : 0)
        if let primary = configuration.primary, let free = probe.primaryFreeBytes, let total = probe.primaryTotalBytes {
            gauge("lifeboat_primary_free_bytes", [("location", primary.name)]).record(free)
            gauge("lifeboat_primary_size_bytes", [("location", primary.name)]).record(total)
        }
        if let pushed = probe.newestWalPush {
            for source in configuration.sources where source.kind == .postgres {
                let s = [("source", source.name)]
                gauge("lifeboat_last_wal_archived_timestamp_seconds", s).record(pushed.timeIntervalSince1970)
                gauge("lifeboat_wal_rpo_lag_seconds", s).record(max(0, now.timeIntervalSince(pushed)))
            }
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    public func render() -> String {
        registry.emitToString()
    }
}
