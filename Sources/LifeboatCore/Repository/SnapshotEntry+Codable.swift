import Foundation

/// `snapshots --json` (docs/cli.md): the manifest's facts with ids as hex, the warnings
/// counted, `parent`, `source` and `sourcePath` present as null when absent. JSON's one
/// vocabulary: `source` is the configured source's name (its `source:NAME` tag),
/// `sourceKind` its kind.
extension SnapshotEntry: Encodable {
    enum CodingKeys: String, CodingKey {
        case id, shortId, time, endTime, type, source, sourceKind, sourcePath, paths, tags, parent, host, username, tree, dataKey, statistics, warnings
        case database, postgres, checks
    }

    public func encode(to encoder: any Encoder) throws {
        let s = snapshot
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.hex, forKey: .id)
        try c.encode(id.shortHex, forKey: .shortId)
        try c.encode(s.time, forKey: .time)
        try c.encode(s.endTime, forKey: .endTime)
        try c.encode(s.type, forKey: .type)
        try c.encode(s.sourceName, forKey: .source)
        try c.encode(s.source.kind, forKey: .sourceKind)
        try c.encode(s.paths, forKey: .paths)
        try c.encode(s.tags, forKey: .tags)
        try c.encode(s.parent?.hex, forKey: .parent)
        try c.encode(s.host, forKey: .host)
        try c.encode(s.username, forKey: .username)
        try c.encode(s.tree.hex, forKey: .tree)
        try c.encode(s.dataKey.hex, forKey: .dataKey)
        try c.encode(s.statistics, forKey: .statistics)
        try c.encode(s.warnings.count, forKey: .warnings)
        try c.encode(s.source.name, forKey: .sourcePath)
        try c.encodeIfPresent(s.database, forKey: .database)
        try c.encodeIfPresent(s.postgres, forKey: .postgres)
        try c.encode(s.checks, forKey: .checks)
    }
}
