import Foundation
import LifeboatCatalog

/// The recovery time and data loss an execution achieved, against the plan's targets.
/// RTO: from the incident to the end of the last critical step (the execution's end when
/// it has none). RPO: the incident minus the oldest restore point (none without a restore).
public struct RecoveryObjectives: Sendable, Codable, Equatable {
    public var rtoTargetSeconds: Double?
    public var rtoAchievedSeconds: Double?
    public var rpoTargetSeconds: Double?
    public var rpoAchievedSeconds: Double?
    public var restorePoint: Date?

    /// Measured on a finished run's steps.
    init(record: RecoveryExecutionRecord, plan: RecoveryPlan, end: Date) {
        let critical = Set(plan.steps.filter(\.isCritical).map(\.name))
        let lastCritical = record.steps.filter { critical.contains($0.name) && $0.status == .succeeded }.compactMap(\.finishedAt).max()
        rtoTargetSeconds = Double(plan.rtoTarget.seconds)
        rtoAchievedSeconds = max(0, (lastCritical ?? end).timeIntervalSince(record.incidentTime))
        rpoTargetSeconds = plan.rpo.map { Double($0.seconds) }
        restorePoint = record.steps.compactMap(\.restorePoint).min()
        rpoAchievedSeconds = restorePoint.map { max(0, record.incidentTime.timeIntervalSince($0)) }
    }

    /// As recorded in an execution.
    public init(record: RecoveryExecutionRecord) {
        rtoTargetSeconds = record.rtoTargetSeconds
        rtoAchievedSeconds = record.rtoAchievedSeconds
        rpoTargetSeconds = record.rpoTargetSeconds
        rpoAchievedSeconds = record.rpoAchievedSeconds
        restorePoint = record.restorePoint
    }

    /// Achieved within the target; nil when either is unknown.
    public var isRTOMet: Bool? {
        guard let target = rtoTargetSeconds, let achieved = rtoAchievedSeconds else { return nil }
        return achieved <= target
    }

    public var isRPOMet: Bool? {
        guard let target = rpoTargetSeconds, let achieved = rpoAchievedSeconds else { return nil }
        return achieved <= target
    }
}
