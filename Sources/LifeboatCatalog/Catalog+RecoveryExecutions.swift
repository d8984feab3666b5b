import FluentKit
import Foundation
import LifeboatCore

extension Catalog {
    /// What an execution is made with: its steps are written PENDING with it.
    public struct NewRecoveryExecution: Sendable {
        public var plan: String
        public var revision: Int
        public var mode: RecoveryMode
        public var user: String
        public var incidentTime: Date
        public var createdAt: Date
        public var rtoTargetSeconds: Double?
        public var rpoTargetSeconds: Double?
        /// In plan order: name, type, critical.
        public var steps: [(name: String, type: String, critical: Bool)]

        public init(
            plan: String, revision: Int, mode: RecoveryMode, user: String, incidentTime: Date, createdAt: Date, rtoTargetSeconds: Double?,
            rpoTargetSeconds: Double?, steps: [(name: String, type: String, critical: Bool)]
        ) {
            self.plan = plan
            self.revision = revision
            self.mode = mode
            self.user = user
            self.incidentTime = incidentTime
            self.createdAt = createdAt
            self.rtoTargetSeconds = rtoTargetSeconds
            self.rpoTargetSeconds = rpoTargetSeconds
            self.steps = steps
        }
    }

    /// The most of a step's log the catalog keeps: the newest part, so the end (the
    /// failure) survives.
    public static let stepLogLimit = 16 * 1024

    /// Writes the PENDING execution and its PENDING steps; returns its id.
    public func createExecution(_ new: NewRecoveryExecution) async throws -> UUID {
        try await perform("write the recovery execution") {
            try await self.writeTransaction { db in
                let m = RecoveryExecutionModel()
                m.plan = new.plan
                m.planRevision = new.revision
                m.mode = new.mode.rawValue
                m.status = RecoveryExecutionStatus.pending.rawValue
                m.requestedBy = new.user
                m.createdAt = new.createdAt
                m.incidentTime = new.incidentTime
                m.cancelRequested = false
                m.rtoTargetSeconds = new.rtoTargetSeconds
                m.rpoTargetSeconds = new.rpoTargetSeconds
                try await m.create(on: db)
                for (i, step) in new.steps.enumerated() {
                    let s = RecoveryStepRunModel()
                    s.$execution.id = m.id!
                    s.position = i
                    s.name = step.name
                    s.type = step.type
                    s.critical = step.critical
                    s.status = RecoveryStepStatus.pending.rawValue
                    s.attempts = 0
                    s.log = ""
                    try await s.create(on: db)
                }
                return m.id!
            }
        }
    }

    /// The execution with its steps; nil when there is none with this id.
    public func execution(id: UUID) async throws -> RecoveryExecutionRecord? {
        try await perform("read the recovery execution") {
            guard let m = try await RecoveryExecutionModel.query(on: self.database).filter(\.$id == id).with(\.$steps).first() else { return nil }
            return RecoveryExecutionRecord(m, steps: m.steps)
        }
    }

    /// Executions, newest first, of one plan or of all.
    public func executions(plan: String? = nil) async throws -> [RecoveryExecutionRecord] {
        try await perform("read the recovery executions") {
            var query = RecoveryExecutionModel.query(on: self.database).with(\.$steps)
            if let plan { query = query.filter(\.$plan == plan) }
            return try await query.sort(\.$createdAt, .descending).all().map { RecoveryExecutionRecord($0, steps: $0.steps) }
        }
    }

    /// The fields of an execution a caller may change.
    public struct ExecutionChange: Sendable {
        public var status: RecoveryExecutionStatus?
        public var startedAt: Date?
        public var finishedAt: Date?
        public var owner: ProcessIdentity?
        public var leaseExpiresAt: Date?
        public var sandbox: String?
        public var rtoAchievedSeconds: Double?
        public var rpoAchievedSeconds: Double?
        public var restorePoint: Date?
        public var error: String?
        /// Removes the error a resumed execution carried from its interruption.
        public var clearsError = false
        public init() {}
    }

    /// Applies a change to an execution. When `unlessFinal`, a final status stands (a
    /// cancel that came first is not overwritten by a late transition). Returns the row.
    @discardableResult
    public func updateExecution(_ id: UUID, _ change: ExecutionChange) async throws -> RecoveryExecutionRecord {
        try await perform("update the recovery execution") {
            guard let m = try await RecoveryExecutionModel.find(id, on: self.database) else { throw CatalogError.notFound("recovery execution \(id)") }
            if let s = change.status { m.status = s.rawValue }
            if let d = change.startedAt { m.startedAt = d }
            if let d = change.finishedAt { m.finishedAt = d }
            if let o = change.owner {
                m.host = o.host
                m.pid = Int(o.pid)
                m.ownerBootID = o.bootID
                m.ownerStartTicks = o.startTicks.map { Int64(bitPattern: $0) }
            }
            if let d = change.leaseExpiresAt { m.leaseExpiresAt = d }
            if let s = change.sandbox { m.sandbox = s }
            if let v = change.rtoAchievedSeconds { m.rtoAchievedSeconds = v }
            if let v = change.rpoAchievedSeconds { m.rpoAchievedSeconds = v }
            if let d = change.restorePoint { m.restorePoint = d }
            if change.clearsError { m.error = nil }
            if let e = change.error { m.error = e }
            try await m.save(on: self.database)
            let steps = try await RecoveryStepRunModel.query(on: self.database).filter(\.$execution.$id == id).all()
            return RecoveryExecutionRecord(m, steps: steps)
        }
    }

    /// The fields of a step run a caller may change; `appendLog` is added to its log.
    public struct StepChange: Sendable {
        public var status: RecoveryStepStatus?
        public var attempts: Int?
        public var startedAt: Date?
        public var finishedAt: Date?
        public var appendLog: String?
        public var restorePoint: Date?
        public init() {}
    }

    public func updateStep(_ id: UUID, _ name: String, _ change: StepChange) async throws {
        try await perform("update the step run") {
            guard let s = try await RecoveryStepRunModel.query(on: self.database).filter(\.$execution.$id == id).filter(\.$name == name).first() else {
                throw CatalogError.notFound("step '\(name)' in recovery execution \(id)")
            }
            if let v = change.status { s.status = v.rawValue }
            if let v = change.attempts { s.attempts = v }
            if let v = change.startedAt { s.startedAt = v }
            if let v = change.finishedAt { s.finishedAt = v }
            if let v = change.restorePoint { s.restorePoint = v }
            if let text = change.appendLog {
                var log = s.log + text
                if log.utf8.count > Self.stepLogLimit {
                    log = "…" + String(decoding: Array(log.utf8).suffix(Self.stepLogLimit), as: UTF8.self)
                }
                s.log = log
            }
            try await s.save(on: self.database)
        }
    }

    /// Records an approval of a step. Refused (false) when the step is not waiting for one.
    public func approveStep(_ id: UUID, _ name: String, by user: String, comment: String?, at date: Date) async throws -> Bool {
        try await perform("record the approval") {
            guard let s = try await RecoveryStepRunModel.query(on: self.database).filter(\.$execution.$id == id).filter(\.$name == name).first() else {
                throw CatalogError.notFound("step '\(name)' in recovery execution \(id)")
            }
            guard s.type == "MANUAL_APPROVAL", s.approvedAt == nil, !(RecoveryStepStatus(rawValue: s.status)?.isFinished ?? true) else { return false }
            s.approvedBy = user
            s.approvedAt = date
            s.approvalComment = comment
            try await s.save(on: self.database)
            return true
        }
    }

    /// Asks the execution's executor to stop; an execution no executor holds any more
    /// becomes CANCELLED at once. Returns the row.
    public func requestCancel(_ id: UUID, executorGone: Bool, at date: Date) async throws -> RecoveryExecutionRecord {
        try await perform("cancel the recovery execution") {
            guard let m = try await RecoveryExecutionModel.find(id, on: self.database) else { throw CatalogError.notFound("recovery execution \(id)") }
            m.cancelRequested = true
            if executorGone, !(RecoveryExecutionStatus(rawValue: m.status)?.isFinal ?? false) {
                m.status = RecoveryExecutionStatus.cancelled.rawValue
                m.finishedAt = date
                try await RecoveryStepRunModel.query(on: self.database).filter(\.$execution.$id == id)
                    .filter(\.$status ~~ [RecoveryStepStatus.pending.rawValue, RecoveryStepStatus.running.rawValue, RecoveryStepStatus.waitingApproval.rawValue])
                    .set(\.$status, to: RecoveryStepStatus.cancelled.rawValue).update()
            }
            try await m.save(on: self.database)
            let steps = try await RecoveryStepRunModel.query(on: self.database).filter(\.$execution.$id == id).all()
            return RecoveryExecutionRecord(m, steps: steps)
        }
    }
}

extension Catalog {
    /// Makes `owner` the execution's executor, RUNNING, when `canTake` allows it on the
    /// row as read inside the same transaction (two resumes at once: one wins). Returns
    /// the row, or nil when `canTake` refused.
    public func claimExecution(
        _ id: UUID, owner: ProcessIdentity, leaseExpiresAt: Date, at date: Date, canTake: @escaping @Sendable (RecoveryExecutionRecord) -> Bool
    ) async throws -> RecoveryExecutionRecord? {
        try await perform("claim the recovery execution") {
            try await self.writeTransaction { db in
                guard let m = try await RecoveryExecutionModel.query(on: db).filter(\.$id == id).with(\.$steps).first() else {
                    throw CatalogError.notFound("recovery execution \(id)")
                }
                guard canTake(RecoveryExecutionRecord(m, steps: m.steps)) else { return nil }
                m.status = RecoveryExecutionStatus.running.rawValue
                m.host = owner.host
                m.pid = Int(owner.pid)
                m.ownerBootID = owner.bootID
                m.ownerStartTicks = owner.startTicks.map { Int64(bitPattern: $0) }
                m.leaseExpiresAt = leaseExpiresAt
                if m.startedAt == nil { m.startedAt = date }
                try await m.save(on: db)
                return RecoveryExecutionRecord(m, steps: m.steps)
            }
        }
    }
}
