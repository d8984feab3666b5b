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

    /// Decides over the snapshots `filter` selects; the others are neither kept nor
    /// forgotten, and not in the plan (their groups are not this policy's business).
    public func plan(_ policy: RetentionPolicy, filter: SnapshotFilter = SnapshotFilter()) async throws -> Plan {
        let snapshots = try await repository.snapshots().filter { filter.matches($0.snapshot) }
        return Plan(decisions: Array(zip(snapshots, policy.apply(to: snapshots))))
    }

    /// Forgets exactly `references` (unique id prefixes, or `latest`), each once, in the
    /// repository's order.
    /// - Throws: what ``Repository/findSnapshot(_:latestIntact:)`` throws for a reference that
    ///   names no snapshot, several, or a damaged one: then nothing is planned.
    public func plan(naming references: [String]) async throws -> Plan {
        var named: [SnapshotEntry] = []
        for reference in references {
            let entry = try await repository.findSnapshot(reference)
            if !named.contains(where: { $0.id == entry.id }) { named.append(entry) }
        }
        named.sort { ($0.snapshot.time, $0.id) < ($1.snapshot.time, $1.id) }
        return Plan(decisions: named.map { ($0, RetentionPolicy.Decision(entry: $0.id, keep: false, reasons: ["named"])) })
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
