import Foundation
import LifeboatAPI
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import OpenAPIRuntime

extension APIHandler {
    var plans: RecoveryPlans { RecoveryPlans(context: context) }

    var executor: RecoveryExecutor {
        var executor = RecoveryExecutor(context: context)
        executor.walFetch = jobs.walFetch
        return executor
    }

    /// As `lifeboat plan create`: the body's text (YAML, or JSON) is the revision's document.
    func createPlan(_ input: Operations.CreatePlan.Input) async throws -> Operations.CreatePlan.Output {
        let text: String
        switch input.body {
        case .json(let object): text = try APIRecords.jsonText(object)
        case .yaml(let body): text = try await String(collecting: body, upTo: .max)
        }
        let stored = try await plans.create(text: text, origin: "the request body", by: APIRequestScope.requester)
        AuditNote.current?.target = "plan \(stored.revision.name) r\(stored.revision.revision)"
        let revision = try APIRecords.convert(stored.revision) as Components.Schemas.PlanRevision
        guard stored.isNew else { return .ok(.init(body: .json(revision))) }
        return .created(.init(headers: .init(location: APIRecords.location(plan: stored.revision)), body: .json(revision)))
    }

    func listPlans(_ input: Operations.ListPlans.Input) async throws -> Operations.ListPlans.Output {
        .ok(.init(body: .json(.init(plans: try await plans.list().map(APIRecords.convert)))))
    }

    func getPlan(_ input: Operations.GetPlan.Input) async throws -> Operations.GetPlan.Output {
        try APIRecords.require(input.query.revision.map { $0 >= 1 } ?? true, "revision must be 1 or more, not \(input.query.revision ?? 0)")
        let stored = try await plans.show(input.path.name, revision: input.query.revision)
        return .ok(.init(body: .json(try APIRecords.convert(stored.revision))))
    }

    func listPlanRevisions(_ input: Operations.ListPlanRevisions.Input) async throws -> Operations.ListPlanRevisions.Output {
        .ok(.init(body: .json(.init(revisions: try await plans.revisions(input.path.name).map(APIRecords.convert)))))
    }

    /// As `lifeboat recover run`, with the run owned by the daemon: answered once the execution is recorded.
    func executeRecovery(_ input: Operations.ExecuteRecovery.Input) async throws -> Operations.ExecuteRecovery.Output {
        guard case .json(let body) = input.body else { throw APIRecords.unsupportedBody }
        try APIRecords.require(!body.plan.isEmpty, "plan is empty: name a plan (GET /api/plans lists them)")
        let mode: RecoveryMode = body.mode == .execute ? .execute : .test
        AuditNote.current?.target = "plan \(body.plan) (\(mode.rawValue))"
        try APIRequestScope.require(APIAccess.role(for: mode))
        let executor = self.executor
        let id = try await executor.start(
            RecoveryExecutor.Request(plan: body.plan, mode: mode, user: APIRequestScope.requester, incidentTime: body.incidentTime))
        AuditNote.current?.target = "execution \(id.uuidString.lowercased()) of plan \(body.plan) (\(mode.rawValue))"
        // Recorded PENDING: the answer need not wait for the daemon to claim it (under load,
        // behind other work, that can take longer than a client waits). Should the claim
        // fail, the execution reads INTERRUPTED after a lease and `resume` continues it.
        try await work.start("execution \(id.uuidString.lowercased())", logger: context.logger) { (started: @Sendable (Bool) -> Void) in
            started(true)
            try await run(id, executor: executor, started: { _ in })
        }
        let record = try await executor.status(id)
        return .accepted(.init(headers: .init(location: APIRecords.location(execution: id)), body: .json(try APIRecords.convert(record))))
    }

    func resumeExecution(_ input: Operations.ResumeExecution.Input) async throws -> Operations.ResumeExecution.Output {
        let id = try APIRecords.uuid(input.path.id)
        let executor = self.executor
        AuditNote.current?.target = "execution \(id.uuidString.lowercased())"
        let before = try await executor.status(id)
        try APIRequestScope.require(APIAccess.role(for: before.mode))
        if before.status.isFinal { throw RecoveryError.alreadyFinished(id, before.status.rawValue) }
        let record = try await drive(id, executor: executor)
        return .accepted(.init(headers: .init(location: APIRecords.location(execution: id)), body: .json(try APIRecords.convert(record))))
    }

    /// Runs an execution as daemon-owned work; returns its record once claimed.
    private func drive(_ id: UUID, executor: RecoveryExecutor) async throws -> RecoveryExecutionRecord {
        try await work.start("execution \(id.uuidString.lowercased())", logger: context.logger) { started in
            try await run(id, executor: executor, started: started)
        }
    }

    /// Runs an execution to its end, saying in the daemon's log what a person must know, as
    /// a scheduled drill does: a step waiting for an approval, and how the execution ended.
    private func run(
        _ id: UUID, executor: RecoveryExecutor, started: @escaping @Sendable (RecoveryExecutionRecord) -> Void
    ) async throws {
        let passphrase = jobs.passphrase
        let logger = context.logger
        let name = id.uuidString.lowercased()
        let record = try await executor.run(
            id, passphrase: { passphrase },
            events: { event in
                switch event {
                case .started(let record, _): started(record)
                case .waitingForApproval(let step):
                    logger.warning("execution \(name) waits for an approval: lifeboat recover approve \(name) \(step)")
                default: break
                }
            })
        logger.notice("execution \(name) of \(record.plan) (\(record.mode.rawValue)) ended \(record.status.rawValue)")
    }

    func listExecutions(_ input: Operations.ListExecutions.Input) async throws -> Operations.ListExecutions.Output {
        .ok(.init(body: .json(.init(executions: try await executor.list(plan: input.query.plan).map(APIRecords.convert)))))
    }

    func getExecution(_ input: Operations.GetExecution.Input) async throws -> Operations.GetExecution.Output {
        .ok(.init(body: .json(try APIRecords.convert(try await executor.status(try APIRecords.uuid(input.path.id))))))
    }

    func approveExecutionStep(_ input: Operations.ApproveExecutionStep.Input) async throws -> Operations.ApproveExecutionStep.Output {
        guard case .json(let body) = input.body else { throw APIRecords.unsupportedBody }
        let id = try APIRecords.uuid(input.path.id)
        try APIRecords.require(!body.step.isEmpty, "step is empty: name the MANUAL_APPROVAL step to approve")
        AuditNote.current?.target = "execution \(id.uuidString.lowercased()) step \(body.step)"
        let executor = self.executor
        try await executor.approve(id, step: body.step, user: APIRequestScope.requester, comment: body.comment)
        return .ok(.init(body: .json(try APIRecords.convert(try await executor.status(id)))))
    }

    func cancelExecution(_ input: Operations.CancelExecution.Input) async throws -> Operations.CancelExecution.Output {
        let id = try APIRecords.uuid(input.path.id)
        AuditNote.current?.target = "execution \(id.uuidString.lowercased())"
        return .ok(.init(body: .json(try APIRecords.convert(try await executor.cancel(id)))))
    }

    /// As `lifeboat report`: JSON (default), Markdown or HTML.
    func getReport(_ input: Operations.GetReport.Input) async throws -> Operations.GetReport.Output {
        let report = try await plans.report(plan: input.query.plan)
        switch input.query.format ?? .json {
        case .json: return .ok(.init(body: .json(try APIRecords.convert(report))))
        case .markdown: return .ok(.init(body: .textMarkdown(HTTPBody(report.document.markdown))))
        case .html: return .ok(.init(body: .html(HTTPBody(report.document.html))))
        }
    }
}
