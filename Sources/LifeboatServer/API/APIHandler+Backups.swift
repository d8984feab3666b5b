import Foundation
import LifeboatAPI
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import OpenAPIRuntime

extension APIHandler {
    /// A ``BackupJob`` like a scheduled one (its BackupLog row, its lease), owned by the
    /// daemon; answered once its row is written.
    func performBackup(_ input: Operations.PerformBackup.Input) async throws -> Operations.PerformBackup.Output {
        guard case .json(let body) = input.body else { throw APIRecords.unsupportedBody }
        try APIRecords.require(!body.source.isEmpty, "source is empty: name a source of lifeboat.yaml")
        AuditNote.current?.target = "source \(body.source)"
        var request = BackupJob.Request(source: body.source, type: body._type.flatMap { BackupType(rawValue: $0.rawValue) }, scheduleType: .manual)
        request.restoreTest = body.restoreTest ?? false
        request.walFetch = jobs.walFetch
        request.requestedBy = APIRequestScope.requester
        let job = BackupJob(context: context)
        let passphrase = jobs.passphrase
        let prepared = request
        let id: UUID = try await work.start("the backup of \(body.source)", logger: context.logger) { started in
            var request = prepared
            request.started = started
            _ = try await job.run(request, passphrase: passphrase)
        }
        guard let record = try await context.withCatalog({ try await $0.backup(id: id) }) else { throw APIRecords.vanished("backup \(id)") }
        return .accepted(.init(headers: .init(location: APIRecords.location(backup: id)), body: .json(try APIRecords.convert(record))))
    }

    func listBackups(_ input: Operations.ListBackups.Input) async throws -> Operations.ListBackups.Output {
        let q = input.query
        try APIRecords.require(q.limit.map { (1...10_000).contains($0) } ?? true, "limit must be 1 to 10000, not \(q.limit ?? 0)")
        let filter = BackupFilter(
            source: q.source, status: q.status.flatMap { BackupStatus(rawValue: $0.rawValue) }, since: q.since, limit: q.limit, type: q._type?.rawValue,
            until: q.until)
        let records = try await context.withCatalog { try await $0.backups(filter) }
        return .ok(.init(body: .json(.init(backups: try records.map(APIRecords.convert)))))
    }

    func getBackup(_ input: Operations.GetBackup.Input) async throws -> Operations.GetBackup.Output {
        let id = try APIRecords.uuid(input.path.id)
        guard let record = try await context.withCatalog({ try await $0.backup(id: id) }) else {
            throw APIRecords.notFound("no backup \(input.path.id) in the catalog: GET /api/backups lists them")
        }
        return .ok(.init(body: .json(try APIRecords.convert(record))))
    }
}
