import Foundation
import LifeboatCore

/// Recreates BackupLog rows from the snapshots in a location, so that losing the catalog
/// loses no backup: every snapshot the catalog lacks gets a SUCCEEDED row (it exists, so
/// its backup finished) with the facts the snapshot records, and a PRESENT copy there.
public struct CatalogRebuilder: Sendable {
    public let catalog: Catalog

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    public struct Report: Sendable, Codable {
        public var snapshots = 0
        public var added = 0
        public var alreadyRecorded = 0
        public var damaged: [String] = []
    }

    public func rebuild(from repository: Repository, location: String, role: LocationRole) async throws -> Report {
        let (entries, damaged) = try await repository.listSnapshots()
        let recorded = try await catalog.recordedSnapshots()
        // Keys under snapshots/ that are no snapshot name were never read: named, not imported.
        let rejected = try await repository.backend.listing(.snapshots).rejected.map(\.description)
        var report = Report(snapshots: entries.count, damaged: damaged + rejected)
        for entry in entries {
            guard !recorded.contains(entry.id.hex) else {
                report.alreadyRecorded += 1
                continue
            }
            let s = entry.snapshot
            var new = Catalog.NewBackup(
                type: s.type.rawValue, scheduleType: nil, source: Self.sourceName(of: s), sourceKind: s.source.kind, requestedBy: s.username,
                host: s.host, pid: 0)
            new.startedAt = s.time
            let id = try await catalog.begin(new)
            try await catalog.update(id) { m in
                m.status = BackupStatus.succeeded.rawValue
                m.stage = BackupPipeline.Stage.backup.rawValue
                m.snapshotID = entry.id.hex
                m.finishedAt = s.endTime
                m.bytesRead = s.statistics.bytesRead
                m.bytesAdded = s.statistics.bytesAdded
                m.files = s.statistics.filesNew + s.statistics.filesChanged + s.statistics.filesUnmodified
                m.dataKeyID = s.dataKey.hex
                m.checksum = s.tree.hex
                m.preCheckPassed = s.checks.pre?.passed
                m.preCheckDetails = s.checks.pre?.details
                m.postCheckPassed = s.checks.post?.passed
                m.postCheckDetails = s.checks.post?.details
                m.error = "rebuilt from \(location) by catalog rebuild"
            }
            try await catalog.setCopy(id, location: location, role: role, status: .present, verifiedAt: nil, error: nil)
            report.added += 1
        }
        return report
    }

    /// The configuration's name when the run tagged it (`source:NAME`), else what the snapshot says.
    public static func sourceName(of s: Snapshot) -> String {
        s.sourceName ?? s.source.name ?? s.paths.joined(separator: " ")
    }
}
