extension Snapshot {
    /// The tag a configured source's runs give their snapshots (`source:NAME`): how `--source`,
    /// `latest` per source, grouping and a catalog rebuild tell the sources' snapshots apart.
    public static func sourceTag(_ name: String) -> String { sourceTagPrefix + name }

    /// The configured source's name from its tag; nil for a snapshot no configured source made
    /// (a plain `lifeboat backup PATH`).
    public var sourceName: String? {
        tags.first { $0.hasPrefix(Self.sourceTagPrefix) }.map { String($0.dropFirst(Self.sourceTagPrefix.count)) }
    }

    private static let sourceTagPrefix = "source:"
}
