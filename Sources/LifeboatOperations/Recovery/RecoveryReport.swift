import Foundation
import LifeboatCatalog
import LifeboatCore

/// The evidence an auditor asks for, per plan: its targets, every drill and execution with
/// the RTO and RPO achieved and met or missed, the next drill due, the last verified
/// restore of each of its sources from each location, its revisions, and when its people
/// were last reviewed. JSON as it is; Markdown and HTML through ``document``.
public struct RecoveryReport: Sendable, Codable {
    public var generatedAt: Date
    public var plans: [Plan]

    public struct Plan: Sendable, Codable {
        public var name: String
        public var revision: Int
        public var systemType: String
        public var rtoTargetSeconds: Int64
        public var rpoTargetSeconds: Int64?
        public var testingEverySeconds: Int64?
        public var lastDrill: Date?
        public var nextDrillDue: Date?
        public var isOverdue: Bool
        public var executions: [Execution]
        public var restoreTests: [RestoreTest]
        public var revisions: [Revision]
        /// The revision that last changed the team, contacts or vendors (the first counts).
        public var contactsReviewedAt: Date
    }

    public struct Execution: Sendable, Codable {
        public var id: String
        public var mode: String
        public var status: String
        public var user: String
        public var revision: Int
        public var incidentTime: Date
        public var startedAt: Date?
        public var finishedAt: Date?
        public var rtoAchievedSeconds: Double?
        public var rtoMet: Bool?
        public var rpoAchievedSeconds: Double?
        public var rpoMet: Bool?
    }

    public struct RestoreTest: Sendable, Codable {
        public var source: String
        public var location: String
        public var testedAt: Date
        public var result: String
        public var snapshotId: String?
        public var details: String?
        /// The drill or execution that restored and checked it; nil for a restoration test
        /// (`run --restore-test`).
        public var execution: String?
    }

    public struct Revision: Sendable, Codable {
        public var revision: Int
        public var createdAt: Date
        public var createdBy: String
    }

    /// Builds a plan's evidence from its revisions, its executions and the BackupLog.
    static func plan(
        revisions: [RecoveryPlanRevision], summary: RecoveryPlans.Summary, executions: [RecoveryExecutionRecord], backups: [BackupRecord]
    ) throws -> Plan {
        guard let newest = revisions.last else { preconditionFailure("a listed plan has a revision") }
        let plan = try RecoveryPlans.plan(of: newest)
        let sources = Set(plan.steps.compactMap(\.source))
        var tests: [String: RestoreTest] = [:]
        for b in backups where sources.contains(b.source) && b.restoreTest.tested {
            guard let at = b.restoreTest.testedAt, let location = b.restoreTest.location else { continue }
            let key = b.source + "\u{0}" + location
            if (tests[key]?.testedAt ?? .distantPast) < at {
                tests[key] = RestoreTest(
                    source: b.source, location: location, testedAt: at, result: b.restoreTest.result ?? "?", snapshotId: b.snapshotId, details: b.restoreTest.details)
            }
        }
        // A drill or an execution that restored a source from a location and then checked it
        // (a VERIFY_SYSTEM step of that source succeeded after the restore) is evidence for
        // that location, as a restoration test is.
        for e in executions {
            guard let revision = revisions.first(where: { $0.revision == e.revision }) else { continue }
            let steps = Dictionary(uniqueKeysWithValues: try RecoveryPlans.plan(of: revision).steps.map { ($0.name, $0) })
            for restore in e.steps where restore.status == .succeeded && steps[restore.name]?.type == .restoreBackup {
                guard let source = steps[restore.name]?.source, sources.contains(source), let restored = restore.finishedAt,
                    let check = e.steps.first(where: { s in
                        s.status == .succeeded && steps[s.name]?.type == .verifySystem && steps[s.name]?.source == source && (s.startedAt ?? .distantPast) >= restored
                    }),
                    let at = check.finishedAt,
                    // The restore's log names what it restored (RecoveryRun.restore writes it).
                    let origin = restore.log.matches(of: /snapshot ([0-9a-f]+) of \S+ from location (\S+)/).last
                else { continue }
                let location = String(origin.2)
                let key = source + "\u{0}" + location
                if (tests[key]?.testedAt ?? .distantPast) < at {
                    let id = e.id.uuidString.lowercased()
                    tests[key] = RestoreTest(
                        source: source, location: location, testedAt: at, result: "PASSED", snapshotId: String(origin.1),
                        details: "\(e.mode == .test ? "drill" : "execution") \(id.prefix(8)): step \(restore.name) restored it, step \(check.name) checked it",
                        execution: id)
                }
            }
        }
        // When the people last changed: the first revision, or a later one with other people.
        var reviewed = revisions[0].createdAt
        var lastPeople: Data?
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for r in revisions {
            let p = try RecoveryPlans.plan(of: r)
            let people = try encoder.encode([p.team ?? [], p.contacts ?? []]) + (try encoder.encode(p.vendors ?? []))
            if lastPeople != nil && people != lastPeople { reviewed = r.createdAt }
            lastPeople = people
        }
        return Plan(
            name: newest.name, revision: newest.revision, systemType: plan.systemType.rawValue, rtoTargetSeconds: plan.rtoTarget.seconds,
            rpoTargetSeconds: plan.rpo?.seconds, testingEverySeconds: plan.testing?.every.seconds, lastDrill: summary.lastDrill, nextDrillDue: summary.nextDrillDue,
            isOverdue: summary.isOverdue,
            executions: executions.map { e in
                let o = RecoveryObjectives(record: e)
                return Execution(
                    id: e.id.uuidString.lowercased(), mode: e.mode.rawValue, status: e.status.rawValue, user: e.user, revision: e.revision, incidentTime: e.incidentTime,
                    startedAt: e.startedAt, finishedAt: e.finishedAt, rtoAchievedSeconds: o.rtoAchievedSeconds, rtoMet: o.isRTOMet,
                    rpoAchievedSeconds: o.rpoAchievedSeconds, rpoMet: o.isRPOMet)
            },
            restoreTests: tests.values.sorted { ($0.source, $0.location) < ($1.source, $1.location) },
            revisions: revisions.map { Revision(revision: $0.revision, createdAt: $0.createdAt, createdBy: $0.createdBy) }, contactsReviewedAt: reviewed)
    }

    /// The report for people.
    public var document: RecoveryDocument {
        var doc = RecoveryDocument(title: "Disaster-recovery evidence")
        doc.add(.paragraph("Written \(ISO8601.format(generatedAt)) from the catalog: \(plans.count) plan\(plans.count == 1 ? "" : "s")."))
        func time(_ s: Double?) -> String {
            guard let s else { return "" }
            return s < 120 ? String(format: "%.1fs", s) : PlanDuration.format(Int64(s.rounded()))
        }
        func met(_ m: Bool?) -> String { m.map { $0 ? "met" : "MISSED" } ?? "" }
        for p in plans {
            doc.add(.heading(1, "Plan \(p.name) (revision \(p.revision))"))
            doc.add(
                .list([
                    "\(p.systemType): RTO target \(PlanDuration.format(p.rtoTargetSeconds)), RPO target \(p.rpoTargetSeconds.map(PlanDuration.format) ?? "not set")",
                    "Drilled every \(p.testingEverySeconds.map(PlanDuration.format) ?? "(no schedule)"); last drill \(p.lastDrill.map(ISO8601.format) ?? "never"); next due \(p.nextDrillDue.map(ISO8601.format) ?? "not scheduled")\(p.isOverdue ? " (OVERDUE)" : "")",
                    "Team, contacts and vendors last reviewed \(ISO8601.format(p.contactsReviewedAt))",
                ]))
            doc.add(.heading(2, "Drills and executions"))
            if p.executions.isEmpty {
                doc.add(.paragraph("None yet."))
            } else {
                doc.add(
                    .table(
                        header: ["execution", "mode", "status", "by", "incident", "finished", "RTO", "", "RPO", ""],
                        rows: p.executions.map { e in
                            [
                                String(e.id.prefix(8)), e.mode, e.status, e.user, ISO8601.format(e.incidentTime), e.finishedAt.map(ISO8601.format) ?? "",
                                time(e.rtoAchievedSeconds), met(e.rtoMet), time(e.rpoAchievedSeconds), met(e.rpoMet),
                            ]
                        }))
            }
            doc.add(.heading(2, "Last verified restore of each source, per location"))
            if p.restoreTests.isEmpty {
                doc.add(.paragraph("No verified restore recorded for the plan's sources ('lifeboat run SOURCE --restore-test' or a drill records one)."))
            } else {
                doc.add(
                    .table(
                        header: ["source", "location", "tested", "result", "snapshot", "by"],
                        rows: p.restoreTests.map {
                            [
                                $0.source, $0.location, ISO8601.format($0.testedAt), $0.result, $0.snapshotId.map { String($0.prefix(8)) } ?? "",
                                $0.execution == nil ? "restoration test" : $0.details ?? "",
                            ]
                        }))
            }
            doc.add(.heading(2, "Revisions"))
            doc.add(.table(header: ["revision", "stored", "by"], rows: p.revisions.map { ["\($0.revision)", ISO8601.format($0.createdAt), $0.createdBy] }))
        }
        return doc
    }
}
