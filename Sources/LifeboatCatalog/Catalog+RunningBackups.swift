import FluentKit
import Foundation

extension Catalog {
    /// The RUNNING rows of the same source as row `id` that `id` must yield to: those begun
    /// before it (ties broken by id). Two runs that begin at once each write their row,
    /// then look: exactly one finds nothing ahead of it, so one goes on and the other stops,
    /// with no lock beyond the rows' leases. Call it after ``markInterrupted(host:at:)``,
    /// so that rows of runs that are gone do not count.
    public func runsAhead(of id: UUID) async throws -> [BackupRecord] {
        try await perform("read the BackupLog") {
            guard let mine = try await BackupLogModel.find(id, on: self.database) else { throw CatalogError.notFound("BackupLog row \(id)") }
            let running = try await BackupLogModel.query(on: self.database)
                .filter(\.$source == mine.source).filter(\.$status == BackupStatus.running.rawValue).filter(\.$id != id).with(\.$copies).all()
            return running.filter { other in
                other.startedAt < mine.startedAt || (other.startedAt == mine.startedAt && other.id!.uuidString < id.uuidString)
            }
            .map { BackupRecord($0, copies: $0.copies) }
        }
    }

    /// Removes a RUNNING row that never ran (it yielded to a run ahead of it): a refused
    /// start is no run of the source, and the log keeps runs.
    public func discard(_ id: UUID) async throws {
        try await perform("remove the BackupLog row") {
            try await BackupCopyModel.query(on: self.database).filter(\.$backup.$id == id).delete()
            try await BackupLogModel.query(on: self.database).filter(\.$id == id)
                .filter(\.$status == BackupStatus.running.rawValue).delete()
        }
    }
}
