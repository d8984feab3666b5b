import Foundation

/// How an execution stands (DESIGN §7).
public enum RecoveryExecutionStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING"
    case running = "RUNNING"
    case waitingApproval = "WAITING_APPROVAL"
    case succeeded = "SUCCEEDED"
    /// A non-critical step failed; every critical one succeeded.
    case succeededWithWarnings = "SUCCEEDED_WITH_WARNINGS"
    case failed = "FAILED"
    case cancelled = "CANCELLED"
    /// Its executor died (lease expired, process gone): `recover resume` continues it.
    case interrupted = "INTERRUPTED"

    /// Nothing more happens to it.
    public var isFinal: Bool { [.succeeded, .succeededWithWarnings, .failed, .cancelled].contains(self) }
    /// An executor holds it (while its lease lasts).
    public var isActive: Bool { [.pending, .running, .waitingApproval].contains(self) }
}

/// How a step run stands.
public enum RecoveryStepStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING"
    case running = "RUNNING"
    case waitingApproval = "WAITING_APPROVAL"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"
    /// Not run: TEST mode without `runInTest`, or a step after a failed critical one.
    case skipped = "SKIPPED"
    case cancelled = "CANCELLED"

    /// Done with, one way or another: never run again by a resume.
    public var isFinished: Bool { [.succeeded, .failed, .skipped, .cancelled].contains(self) }
}

/// EXECUTE restores onto production; TEST is a drill in a sandbox.
public enum RecoveryMode: String, Sendable, Codable, CaseIterable {
    case execute = "EXECUTE"
    case test = "TEST"
}

/// An execution as callers see it, with its steps in plan order.
public struct RecoveryExecutionRecord: Sendable, Codable, Equatable {
    public var id: UUID
    public var plan: String
    public var revision: Int
    public var mode: RecoveryMode
    public var status: RecoveryExecutionStatus
    public var user: String
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var incidentTime: Date
    public var host: String?
    public var pid: Int?
    public var ownerBootID: String?
    public var ownerStartTicks: Int64?
    public var leaseExpiresAt: Date?
    public var cancelRequested: Bool
    public var sandbox: String?
    public var rtoTargetSeconds: Double?
    public var rtoAchievedSeconds: Double?
    public var rpoTargetSeconds: Double?
    public var rpoAchievedSeconds: Double?
    public var restorePoint: Date?
    public var error: String?
    public var steps: [RecoveryStepRunRecord]

    init(_ m: RecoveryExecutionModel, steps: [RecoveryStepRunModel]) {
        id = m.id!
        plan = m.plan
        revision = m.planRevision
        mode = RecoveryMode(rawValue: m.mode) ?? .test
        status = RecoveryExecutionStatus(rawValue: m.status) ?? .failed
        user = m.requestedBy
        createdAt = m.createdAt
        startedAt = m.startedAt
        finishedAt = m.finishedAt
        incidentTime = m.incidentTime
        host = m.host
        pid = m.pid
        ownerBootID = m.ownerBootID
        ownerStartTicks = m.ownerStartTicks
        leaseExpiresAt = m.leaseExpiresAt
        cancelRequested = m.cancelRequested
        sandbox = m.sandbox
        rtoTargetSeconds = m.rtoTargetSeconds
        rtoAchievedSeconds = m.rtoAchievedSeconds
        rpoTargetSeconds = m.rpoTargetSeconds
        rpoAchievedSeconds = m.rpoAchievedSeconds
        restorePoint = m.restorePoint
        error = m.error
        self.steps = steps.sorted { $0.position < $1.position }.map(RecoveryStepRunRecord.init)
    }

    public func step(_ name: String) -> RecoveryStepRunRecord? { steps.first { $0.name == name } }
}

/// One step's run within an execution.
public struct RecoveryStepRunRecord: Sendable, Codable, Equatable {
    public var name: String
    public var type: String
    public var critical: Bool
    public var status: RecoveryStepStatus
    public var attempts: Int
    public var startedAt: Date?
    public var finishedAt: Date?
    public var log: String
    public var restorePoint: Date?
    public var approvedBy: String?
    public var approvedAt: Date?
    public var approvalComment: String?

    init(_ m: RecoveryStepRunModel) {
        name = m.name
        type = m.type
        critical = m.critical
        status = RecoveryStepStatus(rawValue: m.status) ?? .failed
        attempts = m.attempts
        startedAt = m.startedAt
        finishedAt = m.finishedAt
        log = m.log
        restorePoint = m.restorePoint
        approvedBy = m.approvedBy
        approvedAt = m.approvedAt
        approvalComment = m.approvalComment
    }
}
