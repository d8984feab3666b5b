import Foundation
import LifeboatCatalog
import LifeboatCore

/// Where the backups stand, from the catalog alone (no daemon, no location is read): per
/// source the last success of each type, the next scheduled run, the age of the newest
/// restorable point against the source's RPO, the last restoration test; per location the
/// copies still pending; per recovery plan its last drill. `lifeboat status` prints it, the daemon's `/metrics` exports it, and
/// ``problems`` lists what needs a person.
public struct StatusReport: Sendable, Codable, Equatable {
    public var generatedAt: Date
    public var sources: [Source]
    public var locations: [Location]
    public var plans: [Plan]
    /// One sentence per thing that needs a person; empty when all is well.
    public var problems: [String]
    /// The same, each with a stable key: what the daemon alerts on, once until it resolves.
    public var conditions: [Condition]

    public struct Condition: Sendable, Codable, Equatable {
        /// `no-restorable-point:SOURCE`, `rpo-breach:SOURCE`, `last-run:SOURCE:TYPE`,
        /// `restoration-test-failed:SOURCE`, `restoration-test-overdue:SOURCE`,
        /// `copy-pending:LOCATION`, `drill-failed:PLAN`, `drill-overdue:PLAN`.
        public var key: String
        public var message: String
    }

    public var needsAttention: Bool { !problems.isEmpty }

    public struct Source: Sendable, Codable, Equatable {
        public var name: String
        public var kind: SourceKind
        public var types: [TypeState]
        /// The newest SUCCEEDED run's start: its snapshot is the newest restorable point.
        public var newestRestorablePoint: Date?
        public var rpoLagSeconds: Double?
        public var rpoTargetSeconds: Double
        /// `rpo:` of lifeboat.yaml, or twice the source's shortest schedule interval.
        public var rpoTargetIsConfigured: Bool
        public var lastRestorationTest: Date?
        public var lastRestorationTestPassed: Bool?
        public var running: Int

        /// JSON's one vocabulary: `source` is the configured name, `sourceKind` its kind.
        enum CodingKeys: String, CodingKey {
            case name = "source", kind = "sourceKind"
            case types, newestRestorablePoint, rpoLagSeconds, rpoTargetSeconds, rpoTargetIsConfigured, lastRestorationTest, lastRestorationTestPassed, running
        }
    }

    public struct TypeState: Sendable, Codable, Equatable {
        public var type: String
        public var lastSuccess: Date?
        public var lastRun: Date?
        public var lastStatus: BackupStatus?
        public var lastDurationSeconds: Double?
        public var lastBytesRead: Int64?
        public var lastBytesAdded: Int64?
        public var nextRun: Date?
    }

    public struct Location: Sendable, Codable, Equatable {
        public var name: String
        public var role: LocationRole
        public var pendingCopies: Int
        public var oldestPendingSeconds: Double?
    }

    /// A recovery plan's drills (TEST-mode executions).
    public struct Plan: Sendable, Codable, Equatable {
        public var name: String
        /// `testing: every`; nil when the plan is not drilled on a schedule.
        public var drillEverySeconds: Double?
        /// The end of the newest drill that ended, and whether it succeeded (with or without warnings).
        public var lastDrill: Date?
        public var lastDrillPassed: Bool?
        /// The start of the newest drill that succeeded: the schedule counts `every` from it.
        public var lastSuccessfulDrill: Date?
        /// When the next drill is due: `every` after the last successful one, or after the
        /// plan's newest revision when it was never drilled.
        public var nextDrillDue: Date?
        public var drillRunning: Bool
    }

    /// A copy PENDING for longer than this needs a person (a location down for a day).
    public static let pendingCopyLimit: TimeInterval = 24 * 3600
    /// With no restoration test for this long, restorability is a guess.
    public static let restorationTestLimit: TimeInterval = 8 * 86_400

    /// - Parameters:
    ///   - records: the BackupLog rows (all of them, or enough of the newest).
    ///   - entries: the daemon's schedule (``LifeboatConfiguration/scheduleEntries()``).
    ///   - plans: the newest revision of each recovery plan; `executions`: their executions.
    public init(
        configuration: LifeboatConfiguration, records: [BackupRecord], entries: [ScheduleEntry], now: Date, plans: [RecoveryPlanRevision] = [],
        executions: [RecoveryExecutionRecord] = []
    ) {
        generatedAt = now
        var problems: [Condition] = []
        let bySource = Dictionary(grouping: records, by: \.source)
        // A plan that restores a source and promises an RPO holds the source to it: the
        // strictest such plan's, when stricter than the source's own `rpo:`.
        // Each stored revision parsed once. One was checked when stored; one that no longer
        // parses promises nothing here (no target, no drill schedule): `plan show` says why.
        let parsed = Dictionary(plans.map { ($0.name, try? RecoveryPlans.plan(of: $0)) }, uniquingKeysWith: { a, _ in a })
        var planTargets: [String: Double] = [:]
        for case let plan? in parsed.values {
            guard let rpo = plan.rpo else { continue }
            for step in plan.steps where step.type == .restoreBackup {
                guard let source = step.source else { continue }
                planTargets[source] = min(planTargets[source] ?? .infinity, Double(rpo.seconds))
            }
        }
        sources = configuration.sources.map { source in
            let rows = (bySource[source.name] ?? []).sorted { $0.startedAt > $1.startedAt }
            let own = entries.filter { $0.lane.source == source.name }
            let typeNames = BackupType.allCases.map(\.rawValue).filter { type in
                rows.contains { $0.type == type } || own.contains { if case .backup(_, let t) = $0.job { return t.rawValue == type } else { return false } }
            }
            let types = typeNames.map { type -> TypeState in
                let ofType = rows.filter { $0.type == type }
                let last = ofType.first { $0.status != .running }
                let next = own.filter { if case .backup(_, let t) = $0.job { return t.rawValue == type } else { return false } }.compactMap { $0.next(after: now) }.min()
                return TypeState(
                    type: type, lastSuccess: ofType.first { $0.status == .succeeded }.map { $0.finishedAt ?? $0.startedAt }, lastRun: last?.startedAt,
                    lastStatus: last?.status, lastDurationSeconds: last?.durationSeconds, lastBytesRead: last?.bytesRead, lastBytesAdded: last?.bytesAdded,
                    nextRun: next)
            }
            let newest = rows.first { $0.status == .succeeded }?.startedAt
            let sourceTarget = source.rpo.flatMap(RetentionPolicy.parseDuration).map(\.seconds)
            let configured = [sourceTarget, planTargets[source.name]].compactMap { $0 }.min()
            let target = configured ?? Self.defaultTarget(own, now: now)
            let tested = rows.filter(\.restoreTest.tested).compactMap { r in r.restoreTest.testedAt.map { ($0, r.restoreTest.result == "PASSED") } }.max { $0.0 < $1.0 }
            let state = Source(
                name: source.name, kind: source.kind, types: types, newestRestorablePoint: newest, rpoLagSeconds: newest.map { now.timeIntervalSince($0) },
                rpoTargetSeconds: target, rpoTargetIsConfigured: configured != nil, lastRestorationTest: tested?.0, lastRestorationTestPassed: tested?.1,
                running: rows.filter { $0.status == .running }.count)
            problems += Self.problems(of: state, rows: rows, now: now)
            return state
        }
        var pending: [String: [Date]] = [:]
        for record in records where record.status == .succeeded {
            for copy in record.locations where copy.status == .pending { pending[copy.location, default: []].append(record.finishedAt ?? record.startedAt) }
        }
        locations = configuration.locations.map { l in
            let dates = pending[l.name] ?? []
            return Location(name: l.name, role: l.role, pendingCopies: dates.count, oldestPendingSeconds: dates.min().map { now.timeIntervalSince($0) })
        }
        for l in locations {
            if let age = l.oldestPendingSeconds, age > Self.pendingCopyLimit {
                problems.append(Condition(key: "copy-pending:\(l.name)", message: "location '\(l.name)': \(l.pendingCopies) cop\(l.pendingCopies == 1 ? "y" : "ies") pending, the oldest for \(Self.age(age)): check that it is reachable, then run `lifeboat replicate`"))
            }
        }
        let drills = Dictionary(grouping: executions.filter { $0.mode == .test }, by: \.plan)
        self.plans = plans.sorted { $0.name < $1.name }.map { revision in
            Self.plan(revision, parsed: parsed[revision.name] ?? nil, drills: drills[revision.name] ?? [], now: now)
        }
        for plan in self.plans { problems += Self.problems(of: plan, now: now) }
        conditions = problems
        self.problems = problems.map(\.message)
    }

    static func plan(_ revision: RecoveryPlanRevision, parsed: RecoveryPlan?, drills: [RecoveryExecutionRecord], now: Date) -> Plan {
        let every = parsed?.testing.map { Double($0.every.seconds) }
        let ended = drills.filter { $0.status.isFinal }.max { ($0.finishedAt ?? $0.createdAt) < ($1.finishedAt ?? $1.createdAt) }
        let passed: (RecoveryExecutionRecord) -> Bool = { $0.status == .succeeded || $0.status == .succeededWithWarnings }
        let lastSuccess = drills.filter(passed).map { $0.startedAt ?? $0.createdAt }.max()
        return Plan(
            name: revision.name, drillEverySeconds: every, lastDrill: ended.map { $0.finishedAt ?? $0.createdAt }, lastDrillPassed: ended.map(passed),
            lastSuccessfulDrill: lastSuccess, nextDrillDue: every.map { (lastSuccess ?? revision.createdAt).addingTimeInterval($0) },
            // Running while its executor's lease holds (a dead executor's drill is not running).
            drillRunning: drills.contains { ($0.status == .running || $0.status == .pending) && ($0.leaseExpiresAt ?? $0.createdAt.addingTimeInterval(60)) > now })
    }

    static func problems(of plan: Plan, now: Date) -> [Condition] {
        var problems: [Condition] = []
        let name = "plan '\(plan.name)'"
        if plan.lastDrillPassed == false {
            problems.append(
                Condition(key: "drill-failed:\(plan.name)", message: "\(name): the last drill failed: see `lifeboat recover list --plan \(plan.name)`"))
        }
        // A drill under way is not overdue: it is the drill that was due.
        if let due = plan.nextDrillDue, due < now, !plan.drillRunning {
            let since = plan.lastSuccessfulDrill.map { "the last successful drill is \(age(now.timeIntervalSince($0))) old" } ?? "it was never drilled"
            problems.append(
                Condition(
                    key: "drill-overdue:\(plan.name)",
                    message: "\(name): \(since), beyond its testing interval of \(age(plan.drillEverySeconds ?? 0)): run `lifeboat recover run \(plan.name) --test`"))
        }
        return problems
    }

    /// Twice the shortest interval between two slots of the source's schedules (a day when it has none).
    static func defaultTarget(_ entries: [ScheduleEntry], now: Date) -> Double {
        let intervals = entries.compactMap { e -> Double? in
            guard let a = e.next(after: now), let b = e.next(after: a) else { return nil }
            return b.timeIntervalSince(a)
        }
        return 2 * (intervals.min() ?? 86_400)
    }

    static func problems(of source: Source, rows: [BackupRecord], now: Date) -> [Condition] {
        var problems: [Condition] = []
        let s = source.name
        let name = "source '\(s)'"
        if let lag = source.rpoLagSeconds {
            if lag > source.rpoTargetSeconds {
                problems.append(
                    Condition(
                        key: "rpo-breach:\(s)",
                        message: "\(name): the newest restorable point is \(age(lag)) old, beyond its RPO of \(age(source.rpoTargetSeconds)): run `lifeboat run \(s)` and see `lifeboat log`"))
            }
        } else if rows.isEmpty || !rows.allSatisfy({ $0.status == .running }) {
            // While its very first run goes on, a new source is not yet a problem.
            problems.append(Condition(key: "no-restorable-point:\(s)", message: "\(name) has no successful backup: run `lifeboat run \(s)`"))
        }
        for type in source.types {
            guard let status = type.lastStatus, status != .succeeded else { continue }
            problems.append(
                Condition(key: "last-run:\(s):\(type.type)", message: "\(name): the last \(type.type) ended \(status.rawValue): see `lifeboat log --source \(s)`"))
        }
        if source.lastRestorationTestPassed == false {
            problems.append(Condition(key: "restoration-test-failed:\(s)", message: "\(name): the last restoration test failed: see `lifeboat log --source \(s)`"))
        } else if let tested = source.lastRestorationTest, now.timeIntervalSince(tested) > restorationTestLimit {
            problems.append(
                Condition(
                    key: "restoration-test-overdue:\(s)", message: "\(name): the last restoration test is \(age(now.timeIntervalSince(tested))) old: run `lifeboat restore-test`"))
        } else if source.lastRestorationTest == nil, let first = rows.last(where: { $0.status == .succeeded })?.startedAt,
            now.timeIntervalSince(first) > restorationTestLimit
        {
            // Overdue as for a test too old: a source backed up for less than the limit is not
            // yet a problem (its first FULL's test runs after the FULL's row is SUCCEEDED).
            problems.append(
                Condition(
                    key: "restoration-test-overdue:\(s)",
                    message: "\(name) has been backed up for \(age(now.timeIntervalSince(first))) and never restoration-tested: run `lifeboat run \(s) --type full --restore-test`"))
        }
        return problems
    }

    /// 90 s, 5 min, 3.5 h, 2.0 d.
    public static func age(_ seconds: Double) -> String {
        if seconds < 120 { return "\(Int(seconds)) s" }
        if seconds < 7200 { return "\(Int(seconds / 60)) min" }
        if seconds < 172_800 { return String(format: "%.1f h", seconds / 3600) }
        return String(format: "%.1f d", seconds / 86_400)
    }
}
