import Foundation

/// `lifeboat forget`: applies a ``RetentionPolicy`` and deletes the snapshots it does not keep.
/// Their data stays until `prune`.
public struct Forgetter: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    public struct Plan: Sendable {
        public let decisions: [(SnapshotEntry, RetentionPolicy.Decision)]
        public var forgotten: [SnapshotEntry] { decisions.filter { !$0.1.keep }.map(\.0) }
        public var kept: [SnapshotEntry] { decisions.filter { $0.1.keep }.map(\.0) }
    }

    public func plan(_ policy: RetentionPolicy) async throws -> Plan {
        let snapshots = try await repository.snapshots()
        return Plan(decisions: Array(zip(snapshots, policy.apply(to: snapshots))))
    }

    /// Deletes the snapshots the plan forgets, under a shared lock (prune's exclusive lock excludes it).
    public func execute(_ plan: Plan, host: String, username: String) async throws {
        let forgotten = plan.forgotten
        guard !forgotten.isEmpty else { return }
        try await RepositoryLock.withLock(repository, exclusive: false, host: host, username: username) {
            for entry in forgotten {
                try await repository.backend.delete(ObjectName(.snapshots, entry.id))
            }
        }
    }
}
