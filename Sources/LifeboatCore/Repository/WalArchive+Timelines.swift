/// Timelines in the archive: their histories, and which one a recovery of production follows.
///
/// A cluster restored beside production (to look at old data, to test a backup) starts a
/// new timeline when it is promoted; if it archived into production's repository, its
/// history file and segments sit beside production's. PostgreSQL's default target,
/// `latest`, follows the newest history file it finds: the copy's. What production
/// followed is what its snapshots recorded, so that is what a recovery follows unless told
/// otherwise, and a timeline no snapshot follows is named by `check`.
extension WalArchive {
    /// The ancestry of `timeline` as archived here; a timeline whose history file is not
    /// archived (timeline 1 has none) has no known ancestors.
    /// - Throws: ``RepositoryError/damaged(_:reason:)`` for a history file that does not
    ///   open or parse; storage errors.
    public func history(of timeline: UInt32) async throws -> TimelineHistory {
        guard timeline > 1, let name = WalFileName(WalFileName.hex8(UInt64(timeline)) + ".history") else { return TimelineHistory(timeline: timeline) }
        let contents: Contents
        do {
            contents = try await read(name)
        } catch StorageError.objectNotFound {
            return TimelineHistory(timeline: timeline)
        }
        guard let history = TimelineHistory(timeline: timeline, parsing: String(decoding: contents.bytes, as: UTF8.self)) else {
            throw RepositoryError.damaged(name.objectName, reason: "it is not a timeline history file")
        }
        return history
    }

    /// The timeline a recovery from `base` follows unless told otherwise: the newest
    /// timeline that a snapshot of the same cluster recorded and whose history runs through
    /// the base's timeline past the base's end; the base's own timeline when there is none.
    /// A timeline that only a restored copy produced was recorded by no snapshot.
    /// - Parameter snapshots: the `postgres` facts of the repository's snapshots.
    public func productionTimeline(from base: PostgreSQLFacts, recordedBy snapshots: [PostgreSQLFacts]) async throws -> TimelineHistory {
        let recorded = Set(snapshots.filter { $0.systemIdentifier == base.systemIdentifier && $0.timeline > base.timeline }.map(\.timeline))
        for timeline in recorded.sorted(by: >) {
            let history = try await self.history(of: timeline)
            if history.passes(through: base.timeline, upTo: base.stopLSN) { return history }
        }
        return try await history(of: base.timeline)
    }

    /// What PostgreSQL's `latest` follows from `base`: the newest archived history whose
    /// line runs through the base's timeline past its end.
    public func newestTimeline(from base: PostgreSQLFacts) async throws -> TimelineHistory {
        let timelines = try await list().filter { $0.file.name.hasSuffix(".history") }.map(\.file.timeline).filter { $0 > base.timeline }
        for timeline in timelines.sorted(by: >) {
            let history = try await self.history(of: timeline)
            if history.passes(through: base.timeline, upTo: base.stopLSN) { return history }
        }
        return try await history(of: base.timeline)
    }

    /// Archived timelines that no snapshot follows: history files whose timeline is neither
    /// recorded by a snapshot nor an ancestor of one that is. A restored copy that archived
    /// here makes one; so does a promotion of production not yet backed up.
    /// - Returns: each such timeline with its number of archived segments.
    public func unfollowedTimelines(snapshots: [PostgreSQLFacts]) async throws -> [(timeline: UInt32, segments: Int)] {
        let entries = try await list()
        let histories = Set(entries.filter { $0.file.name.hasSuffix(".history") }.map(\.file.timeline))
        guard !histories.isEmpty else { return [] }
        var followed = Set<UInt32>()
        for timeline in Set(snapshots.map(\.timeline)) {
            followed.formUnion(try await history(of: timeline).spans.map(\.timeline))
        }
        return histories.subtracting(followed).sorted().map { t in (t, entries.filter { $0.file.timeline == t && $0.file.isSegment }.count) }
    }
}
