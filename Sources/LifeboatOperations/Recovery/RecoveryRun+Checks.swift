import AsyncHTTPClient
import Foundation
import LifeboatCatalog
import LifeboatCore

extension RecoveryRun {
    /// VERIFY_SYSTEM: the source's own checks on what was restored (a drill's sandbox copy,
    /// or production after EXECUTE), and the step's query, which must return true.
    func verify(_ step: RecoveryStep) async throws -> StepResult {
        let source = try executor.context.configuration.source(named: step.source ?? "")
        if source.kind == .postgres { return try await verifyPostgreSQL(step, source: source) }
        let paths = restoredPaths(of: source)
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw RecoveryError.stepFailed(
                record.mode == .test
                    ? "the drill has no copy of source '\(source.name)' (\(path)): a RESTORE_BACKUP step of it must run before this one"
                    : "\(path) of source '\(source.name)' does not exist: restore it first")
        }
        switch source.kind {
        case .sqlite:
            let file = paths[0]
            let facts = try SQLiteSource.facts(of: file, thorough: true)
            guard facts.checkResult == "ok" else { throw RecoveryError.stepFailed("\(file) fails integrity_check: \(facts.checkResult)") }
            var log = "\(file): integrity_check ok, \(facts.tableRows.count) tables, \(facts.tableRows.values.reduce(0, +)) rows"
            if let query = step.query {
                let value = try SQLiteSource.firstValue(of: query, in: file)
                guard let value, ["1", "true", "t", "yes"].contains(value.lowercased()) else {
                    throw RecoveryError.stepFailed("the check query \"\(query)\" on \(file) returned \(value ?? "no value"), not true")
                }
                log += "; \"\(query)\" is true"
            }
            return StepResult(log: log)
        case .files:
            var entries = 0
            for path in paths {
                entries += 1 + (FileManager.default.enumerator(atPath: path)?.allObjects.count ?? 0)
            }
            return StepResult(log: "\(paths.joined(separator: ", ")): present, \(entries) entries")
        case .postgres:
            preconditionFailure("verified by verifyPostgreSQL")
        }
    }

    /// Where a source's data is after this execution's restores: in the sandbox for a
    /// drill; for EXECUTE, the target a RESTORE_BACKUP step of the plan gave it, or its own.
    func restoredPaths(of source: LifeboatConfiguration.Source) -> [String] {
        if let sandbox {
            switch source.kind {
            case .files: return (source.paths ?? []).map { sandbox.root(of: source.name) + $0 }
            default: return [sandbox.restoredPath(of: source)]
            }
        }
        let target = plan.steps.first { $0.type == .restoreBackup && $0.source == source.name }?.target
        switch source.kind {
        case .files: return target.map { [$0] } ?? (source.paths ?? [])
        case .sqlite: return [target ?? source.path ?? ""]
        case .postgres: return [target ?? source.pgdata ?? ""]
        }
    }

    /// HTTP_CHECK: a GET whose status must be `expectStatus` (default 200).
    func httpCheck(_ step: RecoveryStep) async throws -> StepResult {
        let url = step.url ?? ""
        let expected = step.expectStatus ?? 200
        let response: HTTPClientResponse
        do {
            response = try await executor.httpClient.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        } catch {
            throw RecoveryError.stepFailed("GET \(url) failed: \(error)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        guard Int(response.status.code) == expected else {
            throw RecoveryError.stepFailed("GET \(url) answered \(response.status.code), expected \(expected)")
        }
        return StepResult(log: "GET \(url): \(response.status.code) (\(body.readableBytes) bytes)")
    }
}
