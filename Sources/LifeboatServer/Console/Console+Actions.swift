import Foundation
import Hummingbird
import LifeboatAPI
import LifeboatCore
import LifeboatOperations

/// The forms: each checks the session's CSRF token, then calls the API operation it stands
/// for (same role, same validation, same audit event), then sends the browser to the page
/// that shows the result.
extension Console {
    struct BackupForm: ConsoleForm {
        var csrf: String?
        var source: String
        var type: String?
    }

    struct ExecuteForm: ConsoleForm {
        var csrf: String?
        var mode: String
        var confirm: String?
    }

    struct ApproveForm: ConsoleForm {
        var csrf: String?
        var step: String
        var comment: String?
    }

    struct CancelForm: ConsoleForm {
        var csrf: String?
    }

    func performBackup(_ request: Request, context: LifeboatRequestContext) async throws -> Response {
        let (_, form) = try await sessionForm(BackupForm.self, request)
        try require(Operations.PerformBackup.id)
        let type = try form.type.flatMap { $0.isEmpty ? nil : $0 }.map { text in
            guard let type = Components.Schemas.BackupType(rawValue: text) else {
                throw HTTPError(.badRequest, message: "type must be one of \(BackupType.allCases.map(\.rawValue).joined(separator: ", ")), not \(text)")
            }
            return type
        }
        let output = try await handler.performBackup(.init(body: .json(.init(source: form.source, _type: type))))
        guard case .accepted(let accepted) = output, case .json(let record) = accepted.body else { return Self.redirect(to: "/console/backups") }
        return Self.redirect(to: "/console/backups/\(record.id.lowercased())")
    }

    func execute(_ request: Request, context: LifeboatRequestContext) async throws -> Response {
        let (_, form) = try await sessionForm(ExecuteForm.self, request)
        let name = try context.parameters.require("name")
        try require(Operations.ExecuteRecovery.id)
        guard let mode = Components.Schemas.ExecuteRequest.ModePayload(rawValue: form.mode) else {
            throw HTTPError(.badRequest, message: "mode must be TEST or EXECUTE, not \(form.mode)")
        }
        if mode == .execute, form.confirm != name {
            throw HTTPError(.unprocessableContent, message: "type the plan's name, \(name), to confirm a recovery onto production")
        }
        let output = try await handler.executeRecovery(.init(body: .json(.init(plan: name, mode: mode))))
        guard case .accepted(let accepted) = output, case .json(let record) = accepted.body else { return Self.redirect(to: "/console/plans/\(name)") }
        return Self.redirect(to: "/console/executions/\(record.id.lowercased())")
    }

    func approve(_ request: Request, context: LifeboatRequestContext) async throws -> Response {
        let (_, form) = try await sessionForm(ApproveForm.self, request)
        let id = try context.parameters.require("id")
        try require(Operations.ApproveExecutionStep.id)
        let comment = form.comment.flatMap { $0.isEmpty ? nil : $0 }
        _ = try await handler.approveExecutionStep(.init(path: .init(id: id), body: .json(.init(step: form.step, comment: comment))))
        return Self.redirect(to: "/console/executions/\(id)")
    }

    func cancel(_ request: Request, context: LifeboatRequestContext) async throws -> Response {
        _ = try await sessionForm(CancelForm.self, request)
        let id = try context.parameters.require("id")
        try require(Operations.CancelExecution.id)
        _ = try await handler.cancelExecution(.init(path: .init(id: id)))
        return Self.redirect(to: "/console/executions/\(id)")
    }
}
