import Foundation
import LifeboatCore

/// The base backup a point-in-time restore starts from.
public enum PointInTimeBase {
    /// The newest PostgreSQL base backup that ends before `target`; with none, the newest
    /// base backup at all, so that the restorer explains why the target is too early.
    /// - Parameter latestIntact: choose among the intact snapshots even when some are damaged.
    /// - Throws: ``RepositoryError/snapshotNotFound(_:)`` when there is no base backup;
    ///   ``RepositoryError/damagedSnapshotsSkipped(_:newestIntact:)`` when a snapshot is damaged.
    public static func choose(
        in repository: Repository, for target: PostgreSQLRestorer.RecoveryTarget, latestIntact: Bool = false
    ) async throws -> SnapshotEntry {
        let bases = try await repository.intactSnapshots(latestIntact: latestIntact).filter { $0.snapshot.source.kind == .postgres && $0.snapshot.type != .transactionLog }
        let fitting = bases.filter { e in
            guard let f = e.snapshot.postgres else { return false }
            switch target {
            case .time(let t): return f.stopTime <= t
            case .lsn(let l): return f.stopLSN <= l
            default: return true
            }
        }
        guard let chosen = fitting.last ?? bases.last else { throw RepositoryError.snapshotNotFound("latest PostgreSQL base backup") }
        return chosen
    }

    /// The snapshot a restore names: an id (any unique prefix), or `latest` for the newest
    /// snapshot of the kind restored.
    public static func resolve(_ reference: String, kind: SourceKind, in repository: Repository, latestIntact: Bool = false) async throws -> SnapshotEntry {
        guard reference == "latest" else { return try await repository.findSnapshot(reference) }
        guard let last = try await repository.intactSnapshots(latestIntact: latestIntact).last(where: { $0.snapshot.source.kind == kind }) else {
            throw RepositoryError.snapshotNotFound("latest \(kind.rawValue) snapshot")
        }
        return last
    }
}
