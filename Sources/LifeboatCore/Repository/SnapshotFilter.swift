/// Which snapshots a command means: every condition given must hold, and within one
/// condition any of its values will do (`--tag a --tag b`: tagged a or b). An empty filter
/// takes every snapshot.
public struct SnapshotFilter: Sendable, Equatable {
    /// Configured sources' names: the snapshot carries the tag `source:<name>` a run writes.
    public var sources: [String] = []
    public var tags: [String] = []
    public var hosts: [String] = []
    /// Backed-up paths, as given to the backup.
    public var paths: [String] = []
    public var types: [BackupType] = []

    public init(sources: [String] = [], tags: [String] = [], hosts: [String] = [], paths: [String] = [], types: [BackupType] = []) {
        self.sources = sources
        self.tags = tags
        self.hosts = hosts
        self.paths = paths
        self.types = types
    }

    public var isEmpty: Bool { sources.isEmpty && tags.isEmpty && hosts.isEmpty && paths.isEmpty && types.isEmpty }

    public func matches(_ snapshot: Snapshot) -> Bool {
        (sources.isEmpty || snapshot.sourceName.map(sources.contains) == true)
            && (tags.isEmpty || tags.contains { snapshot.tags.contains($0) })
            && (hosts.isEmpty || hosts.contains(snapshot.host))
            && (paths.isEmpty || paths.contains { path in snapshot.paths.contains(Self.trimmed(path)) })
            && (types.isEmpty || types.contains(snapshot.type))
    }

    /// A path as a backup records it: without a trailing `/`.
    private static func trimmed(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}
