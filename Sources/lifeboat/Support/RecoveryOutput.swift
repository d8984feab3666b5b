import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

/// How `recover` shows an execution: progress lines as it goes (unbuffered, so a reader
/// of the pipe sees each at once), and the record as text or as the JSON of docs/cli.md.
enum RecoveryOutput {
    /// Writes a line at once: to stdout, or to stderr when stdout carries JSON.
    static func line(_ text: String, json: Bool) {
        (json ? FileHandle.standardError : FileHandle.standardOutput).write(Data((text + "\n").utf8))
    }

    static func render(_ event: RecoveryEvent, json: Bool) {
        switch event {
        case .started(let r, let resumed):
            line(
                "\(resumed ? "resumed" : "started") execution \(r.id.uuidString.lowercased()): plan \(r.plan) revision \(r.revision), \(r.mode == .test ? "TEST (a drill in a sandbox)" : "EXECUTE"), incident at \(ISO8601.format(r.incidentTime))",
                json: json)
        case .stepStarted(let step, let type, let attempt):
            line("step \(step) (\(type)): started\(attempt > 1 ? ", attempt \(attempt)" : "")", json: json)
        case .attemptFailed(let step, let attempt, let error, let retryIn):
            line("step \(step): attempt \(attempt) failed: \(error); retrying in \(PlanDuration.format(retryIn.components.seconds))", json: json)
        case .stepFinished(let step, let status, let detail):
            line("step \(step): \(status.rawValue)\(detail.isEmpty ? "" : ": \(detail)")", json: json)
        case .waitingForApproval:
            break  // rendered by the command, which knows the execution's id
        }
    }

    static func summary(_ r: RecoveryExecutionRecord) -> String {
        let o = RecoveryObjectives(record: r)
        var text = "execution \(r.id.uuidString.lowercased()) \(r.status.rawValue)"
        if let achieved = o.rtoAchievedSeconds {
            text += "; RTO \(seconds(achieved)) against \(o.rtoTargetSeconds.map(seconds) ?? "no target")\(o.isRTOMet.map { $0 ? " (met)" : " (MISSED)" } ?? "")"
        }
        if let achieved = o.rpoAchievedSeconds {
            text += "; RPO \(seconds(achieved)) against \(o.rpoTargetSeconds.map(seconds) ?? "no target")\(o.isRPOMet.map { $0 ? " (met)" : " (MISSED)" } ?? "")"
        }
        if let error = r.error { text += "; \(error)" }
        return text
    }

    static func seconds(_ s: Double) -> String {
        s < 120 ? String(format: "%.1fs", s) : PlanDuration.format(Int64(s.rounded()))
    }

    /// `recover status` as text: the execution and each step.
    static func status(_ r: RecoveryExecutionRecord) -> String {
        var lines = [summary(r)]
        lines.append(
            "  plan \(r.plan) revision \(r.revision), \(r.mode.rawValue), by \(r.user); incident \(ISO8601.format(r.incidentTime)); started \(r.startedAt.map(ISO8601.format) ?? "not yet"); finished \(r.finishedAt.map(ISO8601.format) ?? "not yet")")
        for s in r.steps {
            lines.append("  \(s.name) \(s.type): \(s.status.rawValue), \(s.attempts) attempt\(s.attempts == 1 ? "" : "s")")
            for logLine in s.log.split(separator: "\n").suffix(5) { lines.append("    \(logLine)") }
        }
        return lines.joined(separator: "\n")
    }

    struct Objective: Encodable {
        let targetSeconds: Double?
        let achievedSeconds: Double?
        let met: Bool?
        let restorePoint: Date?
    }

    struct Step: Encodable {
        let name: String
        let type: String
        let critical: Bool
        let status: String
        let attempts: Int
        let startedAt: Date?
        let finishedAt: Date?
        let log: String
        let approvedBy: String?
        let approvedAt: Date?
    }

    /// `recover status --json` (docs/cli.md).
    struct JSON: Encodable {
        let id: String
        let plan: String
        let revision: Int
        let mode: String
        let status: String
        let user: String
        let startedAt: Date?
        let finishedAt: Date?
        let incidentTime: Date
        let rto: Objective
        let rpo: Objective
        let error: String?
        let steps: [Step]

        init(_ r: RecoveryExecutionRecord) {
            let o = RecoveryObjectives(record: r)
            id = r.id.uuidString.lowercased()
            plan = r.plan
            revision = r.revision
            mode = r.mode.rawValue
            status = r.status.rawValue
            user = r.user
            startedAt = r.startedAt
            finishedAt = r.finishedAt
            incidentTime = r.incidentTime
            rto = Objective(targetSeconds: o.rtoTargetSeconds, achievedSeconds: o.rtoAchievedSeconds, met: o.isRTOMet, restorePoint: nil)
            rpo = Objective(targetSeconds: o.rpoTargetSeconds, achievedSeconds: o.rpoAchievedSeconds, met: o.isRPOMet, restorePoint: o.restorePoint)
            error = r.error
            steps = r.steps.map {
                Step(
                    name: $0.name, type: $0.type, critical: $0.critical, status: $0.status.rawValue, attempts: $0.attempts, startedAt: $0.startedAt,
                    finishedAt: $0.finishedAt, log: $0.log, approvedBy: $0.approvedBy, approvedAt: $0.approvedAt)
            }
        }
    }
}
