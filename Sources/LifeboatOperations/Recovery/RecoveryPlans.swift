import Foundation
import LifeboatCatalog
import LifeboatCore

/// The plans a user keeps: checked against lifeboat.yaml, stored in the catalog with
/// every revision, listed with their drills. `lifeboat plan …` and the API come here.
public struct RecoveryPlans: Sendable {
    public let context: OperationsContext
    /// Wall-clock time, for revisions' dates and drills' due dates (a test sets it).
    public var now: @Sendable () -> Date = { Date() }

    public init(context: OperationsContext) {
        self.context = context
    }

    /// Reads and checks a plan file against the configuration.
    /// - Throws: ``RecoveryPlanError`` with the file, the line and what was expected.
    public func validate(file: String) throws -> RecoveryPlan {
        let parsed = try RecoveryPlan.load(file)
        try parsed.validate(against: context.configuration)
        return parsed.plan
    }

    /// Checks a plan file and stores it as the plan's next revision (the first makes the
    /// plan); the same text as the newest revision adds none.
    public func create(file: String) async throws -> (plan: RecoveryPlan, revision: RecoveryPlanRevision, isNew: Bool) {
        try await store(try RecoveryPlan.load(file))
    }

    /// Checks a plan given as text (YAML, or JSON, which YAML reads too) and stores it as
    /// ``create(file:)`` does; `origin` names it in errors ("the request body"), `user` is
    /// who the revision says made it (default: the requester's user).
    /// - Throws: ``RecoveryPlanError`` with the line and what was expected.
    public func create(text: String, origin: String, by user: String? = nil) async throws -> (plan: RecoveryPlan, revision: RecoveryPlanRevision, isNew: Bool) {
        try await store(try RecoveryPlan.parse(text, file: origin), by: user)
    }

    func store(_ parsed: ParsedRecoveryPlan, by user: String? = nil) async throws -> (plan: RecoveryPlan, revision: RecoveryPlanRevision, isNew: Bool) {
        try parsed.validate(against: context.configuration)
        let user = user ?? context.requester.username
        let date = now()
        let stored = try await context.withCatalog { try await $0.addPlanRevision(name: parsed.plan.name, document: parsed.document, by: user, at: date) }
        return (parsed.plan, stored.revision, stored.isNew)
    }

    /// A stored revision with its plan, the newest when `revision` is nil.
    /// - Throws: ``RecoveryPlanError/unknownPlan(_:known:)`` or ``RecoveryPlanError/unknownRevision(_:_:newest:)``.
    public func show(_ name: String, revision: Int? = nil) async throws -> (plan: RecoveryPlan, revision: RecoveryPlanRevision) {
        let stored = try await context.withCatalog { catalog in try await Self.revision(name, revision, in: catalog) }
        return (try Self.plan(of: stored), stored)
    }

    /// Every revision of a plan, oldest first.
    /// - Throws: ``RecoveryPlanError/unknownPlan(_:known:)``.
    public func revisions(_ name: String) async throws -> [RecoveryPlanRevision] {
        try await context.withCatalog { catalog in
            let all = try await catalog.planRevisions(name: name)
            if all.isEmpty { throw RecoveryPlanError.unknownPlan(name, known: try await catalog.latestPlans().map(\.name)) }
            return all
        }
    }

    static func revision(_ name: String, _ revision: Int?, in catalog: Catalog) async throws -> RecoveryPlanRevision {
        if let found = try await catalog.planRevision(name: name, revision: revision) { return found }
        if let revision, let newest = try await catalog.planRevision(name: name) {
            throw RecoveryPlanError.unknownRevision(name, revision, newest: newest.revision)
        }
        throw RecoveryPlanError.unknownPlan(name, known: try await catalog.latestPlans().map(\.name))
    }

    /// The plan a stored revision holds (checked when it was stored; parsed again here).
    static func plan(of revision: RecoveryPlanRevision) throws -> RecoveryPlan {
        try RecoveryPlan.parse(revision.document, file: "plan '\(revision.name)' revision \(revision.revision)").plan
    }

    /// A plan as `plan list` shows it: its newest revision, its targets and its drills.
    public struct Summary: Sendable, Codable {
        public var name: String
        public var revision: Int
        public var systemType: String
        public var rtoSeconds: Int64
        public var rpoSeconds: Int64?
        public var steps: Int
        public var updatedAt: Date
        /// The end of the newest drill (TEST execution) that succeeded.
        public var lastDrill: Date?
        /// When the next drill is due (`testing.every` after the last, or now without one).
        public var nextDrillDue: Date?
        public var isOverdue: Bool
    }

    /// Every plan's newest revision with its drill status, by name.
    public func list() async throws -> [Summary] {
        let date = now()
        return try await context.withCatalog { catalog in
            var out: [Summary] = []
            for stored in try await catalog.latestPlans() {
                let plan = try Self.plan(of: stored)
                let drills = try await catalog.executions(plan: stored.name).filter {
                    $0.mode == .test && ($0.status == .succeeded || $0.status == .succeededWithWarnings)
                }
                let last = drills.compactMap(\.finishedAt).max()
                let due = plan.testing.map { t in last.map { $0.addingTimeInterval(Double(t.every.seconds)) } ?? stored.createdAt }
                out.append(
                    Summary(
                        name: stored.name, revision: stored.revision, systemType: plan.systemType.rawValue, rtoSeconds: plan.rtoTarget.seconds,
                        rpoSeconds: plan.rpo?.seconds, steps: plan.steps.count, updatedAt: stored.createdAt, lastDrill: last, nextDrillDue: due,
                        isOverdue: due.map { $0 < date } ?? false))
            }
            return out
        }
    }

    /// The runbook of a plan's newest revision (RecoveryRunbook).
    /// - Parameter incidentTime: when given, deadlines are dates.
    public func runbook(_ name: String, incidentTime: Date?) async throws -> RecoveryDocument {
        let configuration = context.configuration
        let date = now()
        return try await context.withCatalog { catalog in
            let stored = try await Self.revision(name, nil, in: catalog)
            return RecoveryRunbook.document(
                plan: try Self.plan(of: stored), revision: stored, configuration: configuration, backups: try await catalog.backups(), incidentTime: incidentTime,
                generatedAt: date)
        }
    }

    /// The evidence of every plan, or of one (RecoveryReport).
    public func report(plan name: String? = nil) async throws -> RecoveryReport {
        let summaries = try await list().filter { name == nil || $0.name == name }
        let date = now()
        return try await context.withCatalog { catalog in
            if let name, summaries.isEmpty { _ = try await Self.revision(name, nil, in: catalog) }
            let backups = try await catalog.backups()
            var plans: [RecoveryReport.Plan] = []
            for summary in summaries {
                plans.append(
                    try RecoveryReport.plan(
                        revisions: try await catalog.planRevisions(name: summary.name), summary: summary,
                        executions: try await catalog.executions(plan: summary.name), backups: backups))
            }
            return RecoveryReport(generatedAt: date, plans: plans)
        }
    }
}
