import Foundation

/// AIR_GAPPED copies: a self-contained bundle in a directory, for a quarterly offline copy.
///
/// A bundle is a repository in its own right (same config, keys and data keys; packs copied
/// byte for byte) plus `manifest.json`. Exporting chosen snapshots copies only the packs they
/// need and writes one fresh index segment for those packs, sealed under a new data key that
/// is stored in the bundle only; exporting everything is a plain replication. A bundle can
/// be verified without the passphrase (every object's SHA-256 against its name and against
/// the manifest) and with it (`check --read-data`), and imported back into a repository.
public struct AirgapBundle: Sendable {
    public let repository: Repository
    /// Counts the objects (and their bytes) copied into the bundle, for a progress display.
    public var progress: ProgressMeter?

    public init(repository: Repository) {
        self.repository = repository
    }

    public struct ExportReport: Sendable {
        public let snapshots: [SnapshotID]
        public let packs: Int
        public let objectsCopied: Int
        public let bytesCopied: Int64
        /// Keys of the repository that are no valid object name: not carried, reported.
        public let rejected: [RejectedObjectKey]
    }

    /// - Parameter snapshots: the snapshots to carry; nil for all of them.
    public func export(to bundle: any StorageBackend, snapshots chosen: [SnapshotID]?, label: String, now: Date = Date()) async throws -> ExportReport {
        let all = try await repository.snapshots()
        let selected = chosen.map { ids in all.filter { ids.contains($0.id) } } ?? all
        if let ids = chosen, selected.count != Set(ids).count {
            throw RepositoryError.snapshotNotFound(ids.map(\.shortHex).filter { id in !selected.contains { $0.id.shortHex == id } }.joined(separator: ", "))
        }
        var replicator = Replicator(source: repository.backend, destination: bundle)
        replicator.progress = progress
        let report: Replicator.Report
        var packCount = 0
        if chosen == nil {
            report = try await replicator.replicate()
            packCount = try await bundle.list(.data).count
        } else {
            let index = try await repository.loadIndex()
            var used = Set<BlobID>()
            for entry in selected { try await repository.collectBlobs(of: entry.snapshot, index: index, into: &used) }
            let packs = Set(used.compactMap { index.location(of: $0)?.pack })
            let packNames = Set(packs.map(\.hex))
            let snapshotNames = Set(selected.map(\.id.hex))
            report = try await replicator.replicate(
                include: { name in
                    switch name.kind {
                    case .data: return packNames.contains(name.name)
                    case .snapshots: return snapshotNames.contains(name.name)
                    case .index, .wal: return false
                    default: return true
                    }
                }, writeConfig: false)
            // The bundle's own index: the packs it carries, under a key that only it holds.
            var records: [String: IndexSegment.PackRecord] = [:]
            for info in try await repository.backend.list(.index) {
                for record in try IndexSegment.decode(try await repository.loadSealed(info.name), what: info.name.path).packs
                where packs.contains(record.id) && records[record.id.hex] == nil {
                    records[record.id.hex] = record
                }
            }
            let key = DataKey.generate()
            let keyBytes = JSONCoding.encode(DataKeyFile.seal(key, under: repository.masterKey, created: now))
            try await bundle.write(ObjectName(.dataKeys, Digest256.sha256(keyBytes)), bytes: keyBytes)
            let sealed = SealedObject.seal(
                IndexSegment(packs: records.keys.sorted().map { records[$0]! }).encoded(), kind: .index, dataKey: key, zstd: repository.zstd)
            let indexName = ObjectName(.index, Digest256.sha256(sealed))
            if !(try await bundle.exists(indexName)) { try await bundle.write(indexName, bytes: sealed) }
            // Last, as in every repository: a bundle with a config is complete.
            if !(try await bundle.exists(.config)) { _ = try await replicator.copy(.config) }
            packCount = packs.count
        }
        var manifest = try await MediumManifest.load(from: bundle) ?? MediumManifest(label: label, repository: repository.config.id, created: now)
        manifest.label = label
        manifest.snapshots = Array(Set(manifest.snapshots).union(selected.map(\.id.hex))).sorted()
        try await manifest.record(bundle, now: now)
        try await manifest.save(to: bundle)
        return ExportReport(
            snapshots: selected.map(\.id), packs: packCount, objectsCopied: report.objectsCopied, bytesCopied: report.bytesCopied, rejected: report.rejected)
    }

    /// Checks a bundle without any key: object names against their SHA-256, and the manifest.
    public static func verifyWithoutKey(_ bundle: any StorageBackend) async throws -> CheckReport {
        var report = try await ObjectVerifier(backend: bundle).verify()
        guard let manifest = try await MediumManifest.load(from: bundle) else {
            report.errors.append("manifest.json is missing: this is not a Lifeboat bundle or medium")
            return report
        }
        let againstManifest = try await manifest.verify(bundle)
        // Both report keys that are no object name: once is enough.
        report.errors.append(contentsOf: againstManifest.errors.filter { !report.errors.contains($0) })
        report.bytesRead += againstManifest.bytesRead
        return report
    }
}
