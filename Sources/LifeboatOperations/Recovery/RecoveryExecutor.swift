import AsyncHTTPClient
import Foundation
import LifeboatCatalog
import LifeboatCore

/// Runs disaster-recovery plans (DESIGN §7): an execution of a stored plan revision, in
/// EXECUTE mode onto production or in TEST mode (a drill) into a sandbox.
///
/// The execution is a state machine saved in the catalog at every transition: PENDING
/// when made, RUNNING while an executor holds its lease, WAITING_APPROVAL while a
/// MANUAL_APPROVAL step waits, then SUCCEEDED, SUCCEEDED_WITH_WARNINGS, FAILED or
/// CANCELLED; INTERRUPTED when its executor died (lease expired or process gone) or was
/// interrupted, after which ``run(_:passphrase:events:)`` continues it from its unfinished
/// steps: a finished step never runs again, and a step that was running runs again from
/// the start (each step is safe to repeat: RESTORE_BACKUP restores into a staging path and
/// swaps it in at the end, keeping what was there as `<target>.before-<execution id>`).
///
/// Steps run as a graph (``RecoveryGraph``): each after the steps its `after:` names, or
/// the step before it; steps whose predecessors are done run side by side. A step's
/// attempt is bounded by its timeout and retried with a doubling backoff; a critical
/// step that fails stops the plan (FAILED), another only warns. Achieved RTO (incident to
/// the end of the last critical step) and RPO (incident minus the oldest restore point)
/// are recorded against the plan's targets.
public struct RecoveryExecutor: Sendable {
    public let context: OperationsContext
    /// Wall-clock time, as recorded in the catalog and measured for RTO and RPO.
    public var now: @Sendable () -> Date = { Date() }
    /// How long the executor's hold lasts unless renewed (renewed every third of it).
    public var leaseDuration: Duration = .seconds(60)
    /// How often a waiting approval and a cancel request are looked for in the catalog
    /// (another process writes them: the catalog is the only channel).
    public var pollInterval: Duration = .seconds(1)
    /// The first retry's delay; each next one doubles it, up to a minute.
    public var retryBackoff: Duration = .seconds(1)
    /// Where drills make their sandbox.
    public var scratchDirectory: String = NSTemporaryDirectory()
    /// For HTTP_CHECK and NOTIFY.
    public var httpClient: HTTPClient = .shared
    /// How a PostgreSQL cluster restored by a RESTORE_BACKUP step fetches archived WAL
    /// from a location (`lifeboat wal fetch`, with a passphrase file the server can read).
    public var walFetch: (@Sendable (LifeboatConfiguration.Location) throws -> WalRestoreCommand)?

    public init(context: OperationsContext) {
        self.context = context
    }

    public struct Request: Sendable {
        public var plan: String
        public var mode: RecoveryMode
        /// Who runs it (default: the requester of the context).
        public var user: String?
        /// When the incident happened (default: now): RTO and RPO count from it.
        public var incidentTime: Date?

        public init(plan: String, mode: RecoveryMode, user: String? = nil, incidentTime: Date? = nil) {
            self.plan = plan
            self.mode = mode
            self.user = user
            self.incidentTime = incidentTime
        }
    }

    /// Writes a PENDING execution of the plan's newest revision; ``run(_:passphrase:events:)`` runs it.
    /// - Throws: ``RecoveryPlanError/unknownPlan(_:known:)``; ``RecoveryPlanError/invalid(at:_:)``
    ///   when the stored plan no longer fits lifeboat.yaml (a source or webhook removed since).
    public func start(_ request: Request) async throws -> UUID {
        let date = now()
        let user = request.user ?? context.requester.username
        let configuration = context.configuration
        return try await context.withCatalog { catalog in
            let stored = try await RecoveryPlans.revision(request.plan, nil, in: catalog)
            let parsed = try RecoveryPlan.parse(stored.document, file: "plan '\(stored.name)' revision \(stored.revision)")
            try parsed.validate(against: configuration)
            let plan = parsed.plan
            return try await catalog.createExecution(
                Catalog.NewRecoveryExecution(
                    plan: stored.name, revision: stored.revision, mode: request.mode, user: user, incidentTime: request.incidentTime ?? date,
                    createdAt: date, rtoTargetSeconds: Double(plan.rtoTarget.seconds), rpoTargetSeconds: plan.rpo.map { Double($0.seconds) },
                    steps: plan.steps.map { ($0.name, $0.type.rawValue, $0.isCritical) }))
        }
    }

    /// Runs (or resumes) an execution to its end and returns it as recorded.
    /// - Parameters:
    ///   - passphrase: asked for only when a RESTORE_BACKUP step runs.
    ///   - events: each transition, as it is saved.
    /// - Throws: ``RecoveryError`` when the execution is unknown, finished, or held by a
    ///   live executor; CancellationError when the caller cancelled (the execution is then
    ///   INTERRUPTED and resumable). A failed plan is not an error: its record says FAILED.
    public func run(
        _ id: UUID, passphrase: @escaping @Sendable () throws -> String, events: @escaping @Sendable (RecoveryEvent) -> Void = { _ in }
    ) async throws -> RecoveryExecutionRecord {
        try await context.withCatalog { catalog in
            try await markInterrupted(in: catalog)
            let date = now()
            let owner = ProcessIdentity.current(host: context.requester.host)
            guard let before = try await catalog.execution(id: id) else { throw RecoveryError.unknownExecution(id.uuidString) }
            if before.status.isFinal { throw RecoveryError.alreadyFinished(id, before.status.rawValue) }
            let claimed = try await catalog.claimExecution(
                id, owner: owner, leaseExpiresAt: date.addingTimeInterval(leaseDuration.seconds), at: date,
                canTake: { row in !row.status.isFinal && (row.status == .interrupted || row.host == nil) })
            guard let record = claimed else {
                throw RecoveryError.heldByAnother(id, owner: "pid \(before.pid ?? 0) on \(before.host ?? "?")", until: before.leaseExpiresAt)
            }
            let stored = try await RecoveryPlans.revision(record.plan, record.revision, in: catalog)
            let plan = try RecoveryPlans.plan(of: stored)
            var run = RecoveryRun(executor: self, catalog: catalog, record: record, plan: plan, passphrase: passphrase, events: events)
            events(.started(record, resumed: before.status == .interrupted))
            return try await run.drive()
        }
    }

    /// Records an approval of a step that waits for one.
    /// - Throws: ``RecoveryError`` for an unknown execution or step, or a step not waiting.
    public func approve(_ id: UUID, step: String, user: String?, comment: String?) async throws {
        let date = now()
        let who = user ?? context.requester.username
        try await context.withCatalog { catalog in
            guard let record = try await catalog.execution(id: id) else { throw RecoveryError.unknownExecution(id.uuidString) }
            guard let row = record.step(step) else { throw RecoveryError.unknownStep(id, step: step, steps: record.steps.map(\.name)) }
            guard row.type == RecoveryStep.StepType.manualApproval.rawValue, !record.status.isFinal,
                try await catalog.approveStep(id, step, by: who, comment: comment, at: date)
            else {
                throw RecoveryError.notWaitingForApproval(id, step: step, status: row.approvedAt != nil ? "approved already" : row.status.rawValue)
            }
        }
    }

    /// Cancels an execution: its executor stops at once (a running step is stopped and
    /// recorded CANCELLED); one that no executor holds any more is CANCELLED here and its
    /// sandbox removed. Returns the row as it stands.
    public func cancel(_ id: UUID) async throws -> RecoveryExecutionRecord {
        try await context.withCatalog { catalog in
            try await markInterrupted(in: catalog)
            guard let record = try await catalog.execution(id: id) else { throw RecoveryError.unknownExecution(id.uuidString) }
            if record.status.isFinal { throw RecoveryError.alreadyFinished(id, record.status.rawValue) }
            let gone = record.status == .interrupted || record.host == nil
            let after = try await catalog.requestCancel(id, executorGone: gone, at: now())
            if gone, let sandbox = after.sandbox { RecoverySandbox(path: sandbox).remove() }
            return after
        }
    }

    /// One execution as recorded (executions whose executor died read INTERRUPTED).
    public func status(_ id: UUID) async throws -> RecoveryExecutionRecord {
        try await context.withCatalog { catalog in
            try await markInterrupted(in: catalog)
            guard let record = try await catalog.execution(id: id) else { throw RecoveryError.unknownExecution(id.uuidString) }
            return record
        }
    }

    /// Executions, newest first, of one plan or of all.
    public func list(plan: String? = nil) async throws -> [RecoveryExecutionRecord] {
        try await context.withCatalog { catalog in
            try await markInterrupted(in: catalog)
            return try await catalog.executions(plan: plan)
        }
    }

    /// The execution an id names: the whole UUID or a unique prefix of it.
    public func resolve(_ text: String) async throws -> UUID {
        if let id = UUID(uuidString: text) { return id }
        let prefix = text.lowercased()
        let matches = try await context.withCatalog { try await $0.executions() }.filter { $0.id.uuidString.lowercased().hasPrefix(prefix) }
        guard prefix.count >= 4, matches.count == 1 else { throw RecoveryError.unknownExecution(text) }
        return matches[0].id
    }

    /// Active executions whose executor is gone become INTERRUPTED: their lease expired, or
    /// their process is certainly gone from this host; a PENDING one never claimed within a
    /// lease is too.
    func markInterrupted(in catalog: Catalog) async throws {
        let date = now()
        for record in try await catalog.executions() where record.status.isActive {
            let why: String
            if let host = record.host {
                let owner = ProcessIdentity(
                    host: host, bootID: record.ownerBootID, pid: Int32(truncatingIfNeeded: record.pid ?? 0),
                    startTicks: record.ownerStartTicks.map { UInt64(bitPattern: $0) })
                if let expiry = record.leaseExpiresAt, expiry < date {
                    why = "its executor's lease expired at \(ISO8601.format(expiry)) (\(owner))"
                } else if owner.isCertainlyGone(localHost: context.requester.host) {
                    why = "its executor (\(owner)) is gone"
                } else {
                    continue
                }
            } else if record.createdAt.addingTimeInterval(leaseDuration.seconds) < date {
                why = "no executor took it up"
            } else {
                continue
            }
            var change = Catalog.ExecutionChange()
            change.status = .interrupted
            change.error = "interrupted: \(why); 'lifeboat recover resume \(record.id)' continues it"
            try await catalog.updateExecution(record.id, change)
        }
    }
}
