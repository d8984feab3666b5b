import ArgumentParser
import LifeboatCore

/// `snapshots`' filters: each given condition must hold; a repeated one is any of its values.
struct SnapshotFilterOptions: ParsableArguments {
    @Option(name: .long, help: "Only snapshots of this configured source (tagged source:NAME by run; repeatable).")
    var source: [String] = []

    @Option(name: .long, help: "Only snapshots with this tag (repeatable).")
    var tag: [String] = []

    @Option(name: .long, help: "Only snapshots made on this host (repeatable).")
    var host: [String] = []

    @Option(name: .long, help: "Only snapshots of this backed-up path (repeatable).")
    var path: [String] = []

    @Option(name: .long, help: "Only snapshots of this type: full, incremental, transaction-log or configuration (repeatable).")
    var type: [BackupTypeArgument] = []

    var filter: SnapshotFilter {
        SnapshotFilter(sources: source, tags: tag, hosts: host, paths: path, types: type.map(\.backupType))
    }
}

/// `--source NAME` for the verbs that name one snapshot: `latest` is that source's newest.
struct SourceSelectionOptions: ParsableArguments {
    @Option(name: .long, help: "With 'latest': the newest snapshot of this configured source (tagged source:NAME by run).")
    var source: String?

    /// The snapshots `--source` allows (all without it).
    var filter: SnapshotFilter { SnapshotFilter(sources: source.map { [$0] } ?? []) }

    /// Refuses a snapshot named by its id that is not of `--source`.
    func check(_ entry: SnapshotEntry) throws {
        guard let source, !filter.matches(entry.snapshot) else { return }
        throw CLIError("snapshot \(entry.id.shortHex) is not of source '\(source)' (it has no tag source:\(source)): leave out --source, or name 'latest'")
    }

    /// Resolves `reference` as `latest` (of `--source` when given) or an id, through `latest`'s
    /// rule for damaged snapshots. An id that is not of `--source` is refused.
    func find(_ reference: String, in repo: Repository, latest: LatestIntactOptions) async throws -> SnapshotEntry {
        guard let source else { return try await latest.find(reference, in: repo) }
        if reference == "latest" {
            try await latest.warnSkipped(reference, in: repo)
            guard let newest = try await repo.intactSnapshots(latestIntact: latest.latestIntact).last(where: { filter.matches($0.snapshot) }) else {
                throw RepositoryError.snapshotNotFound("latest of source '\(source)'")
            }
            return newest
        }
        let entry = try await latest.find(reference, in: repo)
        try check(entry)
        return entry
    }
}
