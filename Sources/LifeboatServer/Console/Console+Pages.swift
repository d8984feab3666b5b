import Foundation
import Hummingbird
import LifeboatAPI
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

/// The pages: each needs an auditor's token (the lowest role), reads what its API
/// counterpart reads, and shows the forms the caller's role allows (the server checks the
/// role again when a form is posted).
extension Console {
    func dashboard() async throws -> Response {
        let session = try viewer()
        let report = try await StatusReport.load(context)
        return Self.page("dashboard", ConsoleViews.Dashboard(frame: frame("Dashboard", .dashboard, session: session), report: report))
    }

    func backups(_ request: Request) async throws -> Response {
        let session = try viewer()
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? { query.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        let source = value("source")
        let type = value("type")
        let status = value("status")
        if let status, BackupStatus(rawValue: status) == nil {
            throw HTTPError(.badRequest, message: "status must be one of \(BackupStatus.allCases.map(\.rawValue).joined(separator: ", ")), not \(status)")
        }
        let filter = BackupFilter(source: source, status: status.flatMap(BackupStatus.init), limit: 200, type: type)
        let records = try await context.withCatalog { try await $0.backups(filter) }
        let view = ConsoleViews.Backups(
            frame: frame("Backups", .backups, session: session),
            sourceOptions: ConsoleOption.list(context.configuration.sources.map(\.name), selected: source),
            typeOptions: ConsoleOption.list(BackupType.allCases.map(\.rawValue), selected: type),
            statusOptions: ConsoleOption.list(BackupStatus.allCases.map(\.rawValue), selected: status),
            canBackup: allowed(Operations.PerformBackup.id, session), rows: records.map(ConsoleViews.Backups.Row.init))
        return Self.page("backups", view)
    }

    func backup(_ id: String) async throws -> Response {
        let session = try viewer()
        let uuid = try APIRecords.uuid(id)
        guard let record = try await context.withCatalog({ try await $0.backup(id: uuid) }) else {
            throw APIRecords.notFound("no backup \(id) in the catalog")
        }
        return Self.page("backup", ConsoleViews.Backup(frame: frame("Backup of \(record.source)", .backups, session: session), record: record))
    }

    func locations() async throws -> Response {
        let session = try viewer()
        let assessment = await LocationAssessment(context: context).assess(verify: false, passphrase: handler.jobs.passphrase)
        let status = try await StatusReport.load(context)
        return Self.page("locations", ConsoleViews.Locations(frame: frame("Locations", .locations, session: session), assessment: assessment, status: status))
    }

    func plans() async throws -> Response {
        let session = try viewer()
        let plans = try await handler.plans.list()
        let executions = try await handler.executor.list().sorted { $0.createdAt > $1.createdAt }.prefix(25)
        return Self.page("plans", ConsoleViews.Plans(frame: frame("Plans", .plans, session: session), plans: plans, executions: Array(executions)))
    }

    func plan(_ name: String) async throws -> Response {
        let session = try viewer()
        let stored = try await handler.plans.show(name)
        let runbook = try await handler.plans.runbook(name, incidentTime: nil)
        let executions = try await handler.executor.list(plan: name).sorted { $0.createdAt > $1.createdAt }.prefix(25)
        let view = ConsoleViews.Plan(
            frame: frame("Plan \(name)", .plans, session: session), name: stored.revision.name, revision: stored.revision.revision,
            canDrill: session.allows(APIAccess.role(for: .test)), canExecute: session.allows(APIAccess.role(for: .execute)),
            executions: executions.map(ConsoleViews.ExecutionRow.init), blocks: ConsoleViews.Block.blocks(runbook))
        return Self.page("plan", view)
    }

    /// The execution's page, or (`live`) only its changing part, for live.js.
    func execution(_ id: String, live: Bool) async throws -> Response {
        let session = try viewer()
        let record = try await handler.executor.status(try APIRecords.uuid(id))
        var frame = frame("Execution of \(record.plan)", .plans, session: session)
        frame.live = !record.status.isFinal
        let view = ConsoleViews.Execution(frame: frame, record: record, session: session)
        return Self.page(live ? "execution-live" : "execution", view)
    }

    func report(_ request: Request) async throws -> Response {
        let session = try viewer()
        let plan = request.uri.queryParameters.get("plan").flatMap { $0.isEmpty ? nil : $0 }
        let report = try await handler.plans.report(plan: plan)
        let names = try await handler.plans.list().map(\.name)
        let view = ConsoleViews.Report(
            frame: frame("Compliance report", .report, session: session), planOptions: ConsoleOption.list(names, selected: plan), plan: plan,
            blocks: ConsoleViews.Block.blocks(report.document))
        return Self.page("report", view)
    }

    /// The session of a caller who may read (an auditor or higher), or 401.
    func viewer() throws -> ConsoleSession {
        let session = try ConsoleRequest.requireSession()
        try APIRequestScope.require(.auditor)
        return session
    }

    func allowed(_ operationID: String, _ session: ConsoleSession) -> Bool {
        switch APIAccess.requirement(for: operationID) {
        case .open: true
        case .role(let role): session.allows(role)
        }
    }
}
