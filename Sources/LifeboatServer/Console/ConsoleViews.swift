import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

/// What each page's template reads: plain values, already formatted, so that the templates
/// stay logic-less and every value goes through Mustache's HTML escaping.
enum ConsoleViews {
    struct Login: Sendable {
        var frame: ConsoleFrame
        var failure: String?
        var next: String
        var loginCSRF: String
    }

    struct Failure: Sendable {
        var frame: ConsoleFrame
        var status: String
        var message: String
        var back: String
    }

    // MARK: Dashboard

    struct Dashboard: Sendable {
        struct Source: Sendable {
            var name, kind, lastBackup, newestPoint, lag, target: String
            var breach: Bool
            var running: Int
        }
        struct Location: Sendable {
            var name, role: String
            var pendingCopies: Int
            var pending: Bool
            var oldestPending: String
        }
        struct Plan: Sendable {
            var name, lastDrill, passed, nextDue: String
        }
        var frame: ConsoleFrame
        var conditions: [String]
        var hasConditions: Bool
        var sources: [Source]
        var locations: [Location]
        var plans: [Plan]

        init(frame: ConsoleFrame, report: StatusReport) {
            self.frame = frame
            let now = report.generatedAt
            conditions = report.problems
            hasConditions = !report.problems.isEmpty
            sources = report.sources.map { s in
                let last = s.types.compactMap(\.lastRun).max()
                return Source(
                    name: s.name, kind: s.kind.rawValue, lastBackup: ConsoleFormat.dateAndAge(last, now: now),
                    newestPoint: ConsoleFormat.date(s.newestRestorablePoint), lag: s.rpoLagSeconds.map(StatusReport.age) ?? "never backed up",
                    target: StatusReport.age(s.rpoTargetSeconds), breach: (s.rpoLagSeconds ?? .infinity) > s.rpoTargetSeconds, running: s.running)
            }
            locations = report.locations.map { l in
                Location(
                    name: l.name, role: l.role.rawValue, pendingCopies: l.pendingCopies, pending: l.pendingCopies > 0,
                    oldestPending: l.oldestPendingSeconds.map { StatusReport.age($0) } ?? ConsoleFormat.none)
            }
            plans = report.plans.map { p in
                Plan(
                    name: p.name, lastDrill: ConsoleFormat.date(p.lastDrill),
                    passed: p.drillRunning ? "running" : p.lastDrillPassed.map { $0 ? "yes" : "no" } ?? ConsoleFormat.none,
                    nextDue: ConsoleFormat.date(p.nextDrillDue))
            }
        }
    }

    // MARK: Backups

    struct Backups: Sendable {
        struct Row: Sendable {
            var id, started, source, type, status, statusClass, duration, bytesRead, bytesAdded, copies, requestedBy: String

            init(_ r: BackupRecord) {
                id = r.id.uuidString.lowercased()
                started = ConsoleFormat.date(r.startedAt)
                source = r.source
                type = r.type
                status = r.status.rawValue
                statusClass = ConsoleFormat.statusClass(r.status.rawValue)
                duration = ConsoleFormat.duration(r.durationSeconds)
                bytesRead = ConsoleFormat.bytes(r.bytesRead)
                bytesAdded = ConsoleFormat.bytes(r.bytesAdded)
                copies = r.locations.map { "\($0.location) \($0.status.rawValue)" }.joined(separator: ", ")
                requestedBy = r.requestedBy
            }
        }
        var frame: ConsoleFrame
        var sourceOptions: [ConsoleOption]
        var typeOptions: [ConsoleOption]
        var statusOptions: [ConsoleOption]
        var canBackup: Bool
        var rows: [Row]
    }

    struct Backup: Sendable {
        struct Check: Sendable {
            var name: String
            var passed: Bool
            var details: String
        }
        struct Copy: Sendable {
            var location, role, status, statusClass, verified, error: String
        }
        var frame: ConsoleFrame
        var id, source, type, scheduleType, status, statusClass, snapshot, started, duration, files, bytesRead, bytesAdded, checksum, requestedBy, host: String
        var error: String?
        var checks: [Check]
        var copies: [Copy]

        init(frame: ConsoleFrame, record r: BackupRecord) {
            self.frame = frame
            id = r.id.uuidString.lowercased()
            source = r.source
            type = r.type
            scheduleType = r.scheduleType ?? ScheduleType.manual.rawValue
            status = r.status.rawValue
            statusClass = ConsoleFormat.statusClass(status)
            snapshot = r.snapshotId ?? ConsoleFormat.none
            started = ConsoleFormat.date(r.startedAt)
            duration = ConsoleFormat.duration(r.durationSeconds)
            files = r.files.map(String.init) ?? ConsoleFormat.none
            bytesRead = ConsoleFormat.bytes(r.bytesRead)
            bytesAdded = ConsoleFormat.bytes(r.bytesAdded)
            checksum = r.checksum ?? ConsoleFormat.none
            requestedBy = r.requestedBy
            host = r.host
            error = r.error
            var checks: [Check] = []
            if let c = r.preCheck { checks.append(Check(name: "pre-backup", passed: c.passed, details: c.details)) }
            if let c = r.postCheck { checks.append(Check(name: "post-backup", passed: c.passed, details: c.details)) }
            if r.restoreTest.tested {
                checks.append(
                    Check(
                        name: "restoration test", passed: r.restoreTest.result == "PASSED",
                        details: [r.restoreTest.details, r.restoreTest.location.map { "at \($0)" }].compactMap { $0 }.joined(separator: " ")))
            }
            self.checks = checks
            copies = r.locations.map { c in
                Copy(
                    location: c.location, role: c.role.rawValue, status: c.status.rawValue, statusClass: ConsoleFormat.statusClass(c.status.rawValue),
                    verified: ConsoleFormat.date(c.verifiedAt), error: c.error ?? "")
            }
        }
    }

    // MARK: Locations

    struct Locations: Sendable {
        struct Row: Sendable {
            var name, role, location: String
            var reachable: Bool
            var problem, newest, bytes, lastVerified: String
            var snapshots, pending: Int
        }
        struct Rule: Sendable {
            var copies, mediaTypes, offsite, offline: Int
            var errors: String
            var met: Bool
            var missing: [String]
        }
        var frame: ConsoleFrame
        var rule: Rule
        var warnings: [String]
        var rows: [Row]

        init(frame: ConsoleFrame, assessment: LocationAssessment.Report, status: StatusReport) {
            self.frame = frame
            let r = assessment.rule
            rule = Rule(
                copies: r.copies, mediaTypes: r.mediaTypes, offsite: r.offsite, offline: r.offlineOrImmutable,
                errors: r.errors.map(String.init) ?? "unknown (not verified)", met: r.met, missing: r.missing)
            warnings = assessment.warnings
            let pending = Dictionary(status.locations.map { ($0.name, $0.pendingCopies) }, uniquingKeysWith: { a, _ in a })
            rows = assessment.locations.map { l in
                Row(
                    name: l.name, role: l.role.rawValue, location: l.location, reachable: l.reachable, problem: l.problem ?? "", newest: ConsoleFormat.date(l.newestSnapshot),
                    bytes: ConsoleFormat.bytes(l.bytes), lastVerified: ConsoleFormat.date(l.lastVerified), snapshots: l.snapshots, pending: pending[l.name] ?? 0)
            }
        }
    }

    // MARK: Plans and executions

    struct ExecutionRow: Sendable {
        var id, created, plan: String
        var revision: Int
        var mode, status, statusClass, rto, user: String

        init(_ e: RecoveryExecutionRecord) {
            id = e.id.uuidString.lowercased()
            created = ConsoleFormat.date(e.createdAt)
            plan = e.plan
            revision = e.revision
            mode = e.mode.rawValue
            status = e.status.rawValue
            statusClass = ConsoleFormat.statusClass(status)
            rto = ConsoleFormat.objective(achieved: e.rtoAchievedSeconds, target: e.rtoTargetSeconds)
            user = e.user
        }
    }

    struct Plans: Sendable {
        struct Row: Sendable {
            var name: String
            var revision: Int
            var systemType, rto, rpo: String
            var steps: Int
            var lastDrill, nextDrillDue: String
            var overdue: Bool
        }
        var frame: ConsoleFrame
        var plans: [Row]
        var executions: [ExecutionRow]

        init(frame: ConsoleFrame, plans: [RecoveryPlans.Summary], executions: [RecoveryExecutionRecord]) {
            self.frame = frame
            self.plans = plans.map { p in
                Row(
                    name: p.name, revision: p.revision, systemType: p.systemType, rto: PlanDuration.format(p.rtoSeconds),
                    rpo: p.rpoSeconds.map(PlanDuration.format) ?? ConsoleFormat.none, steps: p.steps, lastDrill: ConsoleFormat.date(p.lastDrill),
                    nextDrillDue: ConsoleFormat.date(p.nextDrillDue), overdue: p.isOverdue)
            }
            self.executions = executions.map(ExecutionRow.init)
        }
    }

    struct Plan: Sendable {
        var frame: ConsoleFrame
        var name: String
        var revision: Int
        var canDrill: Bool
        var canExecute: Bool
        var executions: [ExecutionRow]
        var blocks: [Block]
    }

    struct Execution: Sendable {
        struct Step: Sendable {
            var name, type: String
            var critical: Bool
            var status, statusClass, times: String
            /// "2" once a step was retried; nil for a first attempt.
            var attempts: String?
            var approval: String?
            var canApprove: Bool
            var log: String?
        }
        var frame: ConsoleFrame
        var id, plan: String
        var revision: Int
        var mode, status, statusClass, user, created, incidentTime, rto, rpo: String
        var restorePoint, error: String?
        var isFinal: Bool
        var canCancel: Bool
        var csrf: String
        var steps: [Step]

        init(frame: ConsoleFrame, record e: RecoveryExecutionRecord, session: ConsoleSession) {
            self.frame = frame
            id = e.id.uuidString.lowercased()
            plan = e.plan
            revision = e.revision
            mode = e.mode.rawValue
            status = e.status.rawValue
            statusClass = ConsoleFormat.statusClass(status)
            user = e.user
            created = ConsoleFormat.date(e.createdAt)
            incidentTime = ConsoleFormat.date(e.incidentTime)
            rto = ConsoleFormat.objective(achieved: e.rtoAchievedSeconds, target: e.rtoTargetSeconds)
            rpo = ConsoleFormat.objective(achieved: e.rpoAchievedSeconds, target: e.rpoTargetSeconds)
            restorePoint = e.restorePoint.map(ConsoleFormat.date)
            error = e.error
            isFinal = e.status.isFinal
            csrf = session.csrf
            let operates = session.allows(.operator)
            canCancel = operates && !e.status.isFinal
            steps = e.steps.map { s in
                let times = [s.startedAt.map { "started \(ConsoleFormat.date($0))" }, s.finishedAt.map { "finished \(ConsoleFormat.date($0))" }]
                    .compactMap { $0 }.joined(separator: ", ")
                return Step(
                    name: s.name, type: s.type, critical: s.critical, status: s.status.rawValue, statusClass: ConsoleFormat.statusClass(s.status.rawValue),
                    times: times.isEmpty ? "not started" : times, attempts: s.attempts > 1 ? String(s.attempts) : nil,
                    approval: s.approvedBy.map { by in
                        [by, s.approvedAt.map(ConsoleFormat.date), s.approvalComment.map { "“\($0)”" }].compactMap { $0 }.joined(separator: ", ")
                    },
                    canApprove: operates && s.status == .waitingApproval, log: s.log.isEmpty ? nil : s.log)
            }
        }
    }

    struct Report: Sendable {
        var frame: ConsoleFrame
        var planOptions: [ConsoleOption]
        var plan: String?
        var blocks: [Block]
    }

    // MARK: Documents

    /// One block of a ``RecoveryDocument``: exactly one of its fields is set.
    struct Block: Sendable {
        struct Table: Sendable {
            struct Row: Sendable { var cells: [String] }
            var header: [String]
            var rows: [Row]
        }
        var h2, h3, h4, paragraph, code: String?
        var list: [String] = []
        var table: Table?

        static func blocks(_ document: RecoveryDocument) -> [Block] {
            [Block(h2: document.title)]
                + document.blocks.map { block in
                    switch block {
                    case .heading(let level, let text):
                        return level <= 1 ? Block(h2: text) : level == 2 ? Block(h3: text) : Block(h4: text)
                    case .paragraph(let text): return Block(paragraph: text)
                    case .list(let items): return Block(list: items)
                    case .code(let text): return Block(code: text)
                    case .table(let header, let rows): return Block(table: Table(header: header, rows: rows.map { Table.Row(cells: $0) }))
                    }
                }
        }
    }
}
