import Foundation
import LifeboatCore

/// The base backup a point-in-time restore starts from.
public enum PointInTimeBase {
    /// The newest PostgreSQL base backup that ends before `target`; with none, the newest
    /// base backup at all, so that the restorer explains why the target is too early.
    /// - Parameters:
    ///   - latestIntact: choose among the intact snapshots even when some are damaged.
    ///   - filter: only snapshots it matches (`--source`: one configured source's).
    /// - Throws: ``RepositoryError/snapshotNotFound(_:)`` when there is no base backup;
    ///   ``RepositoryError/damagedSnapshotsSkipped(_:newestIntact:)`` when a snapshot is damaged.
    public static func choose(
        in repository: Repository, for target: PostgreSQLRestorer.RecoveryTarget, latestIntact: Bool = false, matching filter: SnapshotFilter = SnapshotFilter()
    ) async throws -> SnapshotEntry {
        let bases = try await repository.intactSnapshots(latestIntact: latestIntact).filter {
            $0.snapshot.source.kind == .postgres && $0.snapshot.type != .transactionLog && filter.matches($0.snapshot)
        }
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
    /// snapshot of the kind restored (among those `filter` matches).
    public static func resolve(
        _ reference: String, kind: SourceKind, in repository: Repository, latestIntact: Bool = false, matching filter: SnapshotFilter = SnapshotFilter()
    ) async throws -> SnapshotEntry {
        guard reference == "latest" else { return try await repository.findSnapshot(reference) }
        guard let last = try await repository.intactSnapshots(latestIntact: latestIntact).last(where: { $0.snapshot.source.kind == kind && filter.matches($0.snapshot) }) else {
            throw RepositoryError.snapshotNotFound("latest \(kind.rawValue) snapshot")
        }
        return last
    }
}
