import Foundation

/// `backup --json` (docs/cli.md): the new snapshot's id, type and statistics flattened,
/// `parent` and `source` present as null when absent (`source` is the configured source's
/// name, `sourceKind` its kind, `sourcePath` the database file or data directory).
extension BackupResult: Encodable {
    enum CodingKeys: String, CodingKey {
        case snapshotId, shortId, type, parent, paths, tags, filesNew, filesChanged, filesUnmodified, directories, bytesRead
        case totalFileBytes, bytesAdded, blobsAdded, durationSeconds, warnings, source, sourceKind, sourcePath, database, postgres
    }

    public func encode(to encoder: any Encoder) throws {
        let s = snapshot
        let stats = s.statistics
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(snapshotID.hex, forKey: .snapshotId)
        try c.encode(snapshotID.shortHex, forKey: .shortId)
        try c.encode(s.type, forKey: .type)
        try c.encode(s.parent?.hex, forKey: .parent)
        try c.encode(s.paths, forKey: .paths)
        try c.encode(s.tags, forKey: .tags)
        try c.encode(stats.filesNew, forKey: .filesNew)
        try c.encode(stats.filesChanged, forKey: .filesChanged)
        try c.encode(stats.filesUnmodified, forKey: .filesUnmodified)
        try c.encode(stats.directories, forKey: .directories)
        try c.encode(stats.bytesRead, forKey: .bytesRead)
        try c.encode(stats.totalFileBytes, forKey: .totalFileBytes)
        try c.encode(stats.bytesAdded, forKey: .bytesAdded)
        try c.encode(stats.blobsAdded, forKey: .blobsAdded)
        try c.encode(stats.durationSeconds, forKey: .durationSeconds)
        try c.encode(s.warnings, forKey: .warnings)
        try c.encode(s.sourceName, forKey: .source)
        try c.encode(s.source.kind, forKey: .sourceKind)
        try c.encode(s.source.name, forKey: .sourcePath)
        try c.encodeIfPresent(s.database, forKey: .database)
        try c.encodeIfPresent(s.postgres, forKey: .postgres)
    }
}
