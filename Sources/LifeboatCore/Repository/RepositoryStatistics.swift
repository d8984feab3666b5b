/// What the snapshots of a repository hold, per group of snapshots (a configured source)
/// and in all: how much a restore would write, how much unique content that is once
/// deduplicated, and how much it takes in storage once compressed and sealed.
///
/// Every tree is read once per group however many snapshots share it, and every blob
/// counted once per group however many files and snapshots name it.
public struct RepositoryStatistics: Sendable, Encodable {
    public struct Group: Sendable, Encodable {
        /// The configured source's name, or nil for snapshots made without one.
        public var source: String?
        public var snapshots = 0
        /// What restoring the newest snapshot writes.
        public var latestFiles = 0
        public var latestBytes: Int64 = 0
        /// What restoring every snapshot would write, added up.
        public var restoreBytesAllSnapshots: Int64 = 0
        /// Distinct blobs (file content and trees) and their size before and after compression and sealing.
        public var uniqueBlobs = 0
        public var uniquePlainBytes: Int64 = 0
        public var uniqueStoredBytes: Int64 = 0

        /// Bytes restored across all snapshots per byte of unique content (1 = nothing shared).
        public var deduplicationRatio: Double { uniquePlainBytes == 0 ? 1 : Double(restoreBytesAllSnapshots) / Double(uniquePlainBytes) }
        /// Unique content per stored byte (above 1: compression saved space).
        public var compressionRatio: Double { uniqueStoredBytes == 0 ? 1 : Double(uniquePlainBytes) / Double(uniqueStoredBytes) }

        enum CodingKeys: String, CodingKey {
            case source, snapshots, latestFiles, latestBytes, restoreBytesAllSnapshots, uniqueBlobs, uniquePlainBytes, uniqueStoredBytes
            case deduplicationRatio, compressionRatio
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(source, forKey: .source)
            try c.encode(snapshots, forKey: .snapshots)
            try c.encode(latestFiles, forKey: .latestFiles)
            try c.encode(latestBytes, forKey: .latestBytes)
            try c.encode(restoreBytesAllSnapshots, forKey: .restoreBytesAllSnapshots)
            try c.encode(uniqueBlobs, forKey: .uniqueBlobs)
            try c.encode(uniquePlainBytes, forKey: .uniquePlainBytes)
            try c.encode(uniqueStoredBytes, forKey: .uniqueStoredBytes)
            try c.encode(deduplicationRatio, forKey: .deduplicationRatio)
            try c.encode(compressionRatio, forKey: .compressionRatio)
        }
    }

    /// One group per configured source, sorted by name (snapshots without one last).
    public var groups: [Group]
    /// All snapshots together: content shared between sources is counted once here.
    public var total: Group

    /// Gathers the statistics of `snapshots`, grouped by `group` (e.g. the source's name).
    public static func gather(
        _ snapshots: [SnapshotEntry], repository: Repository, index: MasterIndex, group: (Snapshot) -> String?
    ) async throws -> RepositoryStatistics {
        // Per group: its blobs, and the trees already walked for it (a tree shared by two
        // groups is walked for each, so that each counts its content).
        var groups: [String?: (group: Group, blobs: Set<BlobID>, trees: Set<BlobID>, newest: Snapshot?)] = [:]
        var total = (group: Group(source: nil), blobs: Set<BlobID>())
        for entry in snapshots {
            let name = group(entry.snapshot)
            var g = groups[name] ?? (Group(source: name), [], [], nil)
            g.group.snapshots += 1
            g.group.restoreBytesAllSnapshots += entry.snapshot.statistics.totalFileBytes
            total.group.snapshots += 1
            total.group.restoreBytesAllSnapshots += entry.snapshot.statistics.totalFileBytes
            if g.newest.map({ $0.time <= entry.snapshot.time }) ?? true { g.newest = entry.snapshot }
            try await collect(entry.snapshot.tree, into: &g.blobs, trees: &g.trees, repository: repository, index: index)
            groups[name] = g
        }
        func finish(_ group: inout Group, _ blobs: Set<BlobID>) {
            group.uniqueBlobs = blobs.count
            for id in blobs {
                guard let location = index.location(of: id) else { continue }  // `check` reports a blob the index lacks
                group.uniquePlainBytes += Int64(location.plainBytes)
                group.uniqueStoredBytes += Int64(location.sealedBytes)
            }
        }
        var out: [Group] = []
        for (_, value) in groups {
            total.blobs.formUnion(value.blobs)
            var g = value.group
            finish(&g, value.blobs)
            if let newest = value.newest {
                g.latestFiles = newest.statistics.filesNew + newest.statistics.filesChanged + newest.statistics.filesUnmodified
                g.latestBytes = newest.statistics.totalFileBytes
            }
            out.append(g)
        }
        out.sort { ($0.source == nil ? 1 : 0, $0.source ?? "") < ($1.source == nil ? 1 : 0, $1.source ?? "") }
        finish(&total.group, total.blobs)
        return RepositoryStatistics(groups: out, total: total.group)
    }

    /// Adds every blob below `root` (trees included) to `blobs`, skipping trees already walked.
    private static func collect(
        _ root: BlobID, into blobs: inout Set<BlobID>, trees: inout Set<BlobID>, repository: Repository, index: MasterIndex
    ) async throws {
        guard trees.insert(root).inserted else { return }
        try Task.checkCancellation()
        blobs.insert(root)
        let tree = try await repository.loadTree(root, index: index)
        for node in tree.nodes {
            for blob in node.content { blobs.insert(blob) }
            if let subtree = node.subtree { try await collect(subtree, into: &blobs, trees: &trees, repository: repository, index: index) }
        }
    }
}
