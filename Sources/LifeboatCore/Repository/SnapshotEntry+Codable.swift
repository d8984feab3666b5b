import Foundation

/// `snapshots --json` (docs/cli.md): the manifest's facts with ids as hex, the warnings
/// counted, `parent` and `sourceName` present as null when absent.
extension SnapshotEntry: Encodable {
    enum CodingKeys: String, CodingKey {
        case id, shortId, time, endTime, type, source, sourceName, paths, tags, parent, host, username, tree, dataKey, statistics, warnings
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
        try c.encode(s.source.kind, forKey: .source)
        try c.encode(s.paths, forKey: .paths)
        try c.encode(s.tags, forKey: .tags)
        try c.encode(s.parent?.hex, forKey: .parent)
        try c.encode(s.host, forKey: .host)
        try c.encode(s.username, forKey: .username)
        try c.encode(s.tree.hex, forKey: .tree)
        try c.encode(s.dataKey.hex, forKey: .dataKey)
        try c.encode(s.statistics, forKey: .statistics)
        try c.encode(s.warnings.count, forKey: .warnings)
        try c.encode(s.source.name, forKey: .sourceName)
        try c.encodeIfPresent(s.database, forKey: .database)
        try c.encodeIfPresent(s.postgres, forKey: .postgres)
        try c.encode(s.checks, forKey: .checks)
    }
}
