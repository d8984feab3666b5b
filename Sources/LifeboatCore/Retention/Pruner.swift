import Foundation

/// `lifeboat prune`: removes data that no snapshot refers to.
///
/// Under the exclusive lock: every snapshot's trees are walked to find the blobs in use;
/// packs with nothing in use are deleted; of the packs partly in use, as few are repacked
/// (their used sealed blobs copied byte for byte into new packs under the same data key:
/// nothing is decrypted or re-encrypted) as keep the unused bytes left within `maxUnused`,
/// the most unused first (restic's `--max-unused`); packs that no index names (left by
/// killed backups) are deleted, and the index is rewritten into fresh segments.
/// Archived WAL from before the oldest PostgreSQL base backup is deleted too.
///
/// Crash safety (write new, then delete old): new packs, then the new index, then the old
/// index segments are deleted, then the old packs. Stopped at any point, every snapshot
/// still has all its blobs indexed; what is left over is unreferenced and removed by the
/// next prune. Prune refuses to run when a snapshot or index segment cannot be read,
/// since it could not know what those refer to.
///
/// Young packs are left alone: none is deleted or repacked that the location changed
/// after the older of `now - packGracePeriod` and the creation of the oldest lock whose
/// holder may still run (``protectedSince(host:)``). A backup paused past its lock's expiry
/// (its lock then judged stale and removed) has written packs that no index or snapshot
/// names yet: they are spared, and its next lock refresh stops it.
public struct Pruner: Sendable {
    public let repository: Repository
    /// How much unused data may stay in packs that are partly in use: repacking costs a
    /// download and an upload of what is still used, so a little waste is cheaper.
    public var maxUnused = UnusedLimit.default
    /// How long a pack is spared after it was written (see above); an hour by default.
    public var packGracePeriod: Duration = Self.defaultPackGracePeriod
    public static let defaultPackGracePeriod: Duration = .seconds(3600)
    /// The time prune goes by (its lock, the grace period, stale temporaries).
    public var now: @Sendable () -> Date = Date.init
    /// Counts the packs (and their bytes) repacked, for a progress display.
    public var progress: ProgressMeter?
    /// The new index's segments close at this many blobs (a pack is never split between two).
    var indexSegmentBlobs = 1 << 16

    public init(repository: Repository) {
        self.repository = repository
    }

    public struct Report: Sendable {
        public var packsKept = 0
        public var packsDeleted = 0
        public var packsRepacked = 0
        public var packsWritten = 0
        public var unindexedPacksDeleted = 0
        public var blobsRemoved = 0
        public var bytesBefore: Int64 = 0
        public var bytesAfter: Int64 = 0
        public var indexSegmentsReplaced = 0
        /// Archived WAL older than every PostgreSQL base backup left: no restore can use it.
        public var walFilesDeleted = 0
        public var walBytesDeleted: Int64 = 0
        /// Half-written files of writers killed more than an hour ago.
        public var temporariesRemoved = 0
        /// Packs left as they were because they are younger than the grace period or the
        /// oldest live lock (they may belong to a backup still running).
        public var youngPacksSpared = 0
        /// Unused bytes left in packs kept because repacking them was not needed to stay within ``Pruner/maxUnused``.
        public var unusedBytesKept: Int64 = 0
        public var isDryRun = false
    }

    public func prune(dryRun: Bool = false, host: String, username: String) async throws -> Report {
        // Before the lock: taking it removes the expired locks, whose holders may only be paused.
        let protectedSince = try await protectedSince(host: host)
        return try await RepositoryLock.withLock(repository, exclusive: true, host: host, username: username, now: now) {
            var report = try await run(dryRun: dryRun, protectedSince: protectedSince)
            // An hour: no write keeps its temporary file that long, and `wal push` takes no lock.
            if !dryRun { report.temporariesRemoved = try await repository.backend.removeStaleTemporaries(olderThan: now().addingTimeInterval(-3600)) }
            return report
        }
    }

    /// Packs the location changed after this are spared: the older of `now - packGracePeriod`
    /// and the creation of the oldest lock whose holder may still run. That includes a lock
    /// that expired (a backup paused past its lease: prune removes the lock, and the backup
    /// stops at its next refresh), but not one whose holder is certainly gone from this host.
    func protectedSince(host: String) async throws -> Date {
        var since = now().addingTimeInterval(-packGracePeriod.seconds)
        let backend = repository.backend
        for info in try await backend.list(.locks) {
            // Unreadable or undecodable locks are skipped, as when a lock is taken.
            guard let bytes = try? await backend.read(info.name),
                let lock = try? JSONCoding.decode(RepositoryLock.self, from: bytes, what: info.name.path),
                !lock.holderProcess.isCertainlyGone(localHost: host)
            else { continue }
            since = min(since, lock.created)
        }
        return since
    }

    private func run(dryRun: Bool, protectedSince: Date) async throws -> Report {
        let backend = repository.backend
        var report = Report()
        report.isDryRun = dryRun

        // 1. What the index says is where. Only the index is kept: the segments are read
        // again below, one at a time, since their records take more memory than the index.
        let segmentListing = try await backend.list(.index)
        let segmentNames = segmentListing.map(\.name)
        var index = MasterIndex()
        index.reserveCapacity(segmentBytes: segmentListing.reduce(0) { $0 + $1.sizeBytes })
        for name in segmentNames {
            for record in try await packRecords(in: name) { index.add(record) }
        }
        // As every reader: a blob indexed in several packs is read from one that is present,
        // so a replayed old segment cannot send the walk of the snapshots' trees to a lost pack.
        // One listing of data/ serves this and the decisions of step 3.
        let listedPacks = try await backend.list(.data)
        index.preferPresentPacks(Repository.presentPacks(in: listedPacks))

        // 2. What the snapshots use: a bit per blob of the index.
        let (snapshots, damaged) = try await repository.listSnapshots()
        if let first = damaged.first { throw PruneError.unreadable(first, reason: "cannot tell what it refers to") }
        var used = index.makeMarks()
        for entry in snapshots {
            do {
                try await repository.collectBlobs(of: entry.snapshot, index: index, into: &used)
            } catch RepositoryError.blobNotInIndex(let blob) {
                throw PruneError.missingBlob(blob, snapshot: entry.id)
            }
        }

        // 3. Decide per pack; the first copy of a blob is the one kept. Step 4 goes through
        // the segments again in the same order and makes the same choices (``PackSelection``).
        let present = Dictionary(listedPacks.map { ($0.name.name, $0.sizeBytes) }, uniquingKeysWith: { a, _ in a })
        // A pack whose age the location cannot tell is taken as young: sparing it costs space, deleting it could cost a backup.
        let young = Set(listedPacks.filter { ($0.modified ?? .distantFuture) > protectedSince }.map(\.name.name))
        var plans: [PackID: PackPlan] = [:]
        let selection = PackSelection(index: index, used: used)
        var partlyUsed: [(id: PackID, sizeBytes: Int, usedBytes: Int64, unused: Int)] = []
        // What stays in use after the prune, the base of a percentage limit.
        var usedTotal: Int64 = 0
        for name in segmentNames {
            for record in try await packRecords(in: name) where plans[record.id] == nil && present[record.id.hex] != nil {
                report.bytesBefore += Int64(record.sizeBytes)
                var plan = PackPlan(sizeBytes: record.sizeBytes, blobCount: record.blobs.count, action: .keep)
                if young.contains(record.id.hex) {
                    // Kept whole, as it is: what it holds may be meant for a snapshot not written yet.
                    selection.keepWhole(record)
                    report.bytesAfter += Int64(record.sizeBytes)
                    usedTotal += Int64(record.sizeBytes)
                    report.youngPacksSpared += 1
                    plans[record.id] = plan
                    continue
                }
                let wanted = selection.wanted(of: record)
                let usedBytes = Int64(wanted.reduce(0) { $0 + $1.sealedBytes })
                if wanted.isEmpty {
                    plan.action = .delete
                    report.blobsRemoved += record.blobs.count
                } else if wanted.count == record.blobs.count {
                    report.bytesAfter += Int64(record.sizeBytes)
                    usedTotal += Int64(record.sizeBytes)
                } else {
                    partlyUsed.append((record.id, record.sizeBytes, usedBytes, record.blobs.count - wanted.count))
                    usedTotal += usedBytes
                }
                plans[record.id] = plan
            }
        }
        // Repack the partly used packs, the most unused first (the most space freed per byte
        // copied), until what stays unused is within the limit; the rest are kept as they are.
        let limit = maxUnused.maxUnusedBytes(used: usedTotal)
        var unusedLeft = partlyUsed.reduce(Int64(0)) { $0 + Int64($1.sizeBytes) - $1.usedBytes }
        partlyUsed.sort { a, b in
            let ua = Double(Int64(a.sizeBytes) - a.usedBytes) / Double(max(a.sizeBytes, 1))
            let ub = Double(Int64(b.sizeBytes) - b.usedBytes) / Double(max(b.sizeBytes, 1))
            return ua != ub ? ua > ub : a.id.hex < b.id.hex
        }
        var repackBytes: (sealed: Int64, packs: Int64) = (0, 0)
        for candidate in partlyUsed {
            if unusedLeft > limit {
                plans[candidate.id]!.action = .repack
                unusedLeft -= Int64(candidate.sizeBytes) - candidate.usedBytes
                report.blobsRemoved += candidate.unused
                repackBytes.sealed += candidate.usedBytes
                repackBytes.packs += Int64(candidate.sizeBytes)
            } else {
                // Indexed whole, unused blobs too: the next prune must see them to count the
                // pack's unused bytes (an index of only the used ones would hide them for good).
                report.bytesAfter += Int64(candidate.sizeBytes)
            }
        }
        report.unusedBytesKept = unusedLeft
        let unindexedOld = present.keys.filter { !young.contains($0) }
        let unindexed = unindexedOld.compactMap { PackID(hex: $0) }.filter { plans[$0] == nil }
        report.youngPacksSpared += present.keys.filter { young.contains($0) && PackID(hex: $0).map { plans[$0] == nil } == true }.count
        let delete = plans.filter { $0.value.action == .delete }.map(\.key)
        let repack = plans.filter { $0.value.action == .repack }.map(\.key)
        report.packsKept = plans.count - delete.count - repack.count
        report.packsDeleted = delete.count
        report.packsRepacked = repack.count
        report.unindexedPacksDeleted = unindexed.count
        report.indexSegmentsReplaced = segmentNames.count

        // WAL: segments (and their .backup/.partial files) before the oldest base backup's
        // first segment are needed by no restore. History files are kept: they are tiny and
        // recovery reads them to follow timelines. Without any base backup, nothing goes.
        let oldestStart = snapshots.compactMap { entry -> UInt64? in
            guard entry.snapshot.type != .transactionLog, let f = entry.snapshot.postgres else { return nil }
            return WalFileName(f.startWal)?.segmentNumber(segmentBytes: f.walSegmentBytes)
        }.min()
        let segmentBytes = snapshots.compactMap { $0.snapshot.postgres?.walSegmentBytes }.first
        var expiredWal: [ObjectName] = []
        if let oldestStart, let segmentBytes {
            for entry in try await WalArchive(repository: repository).list() where !entry.file.name.hasSuffix(".history") {
                guard let segment = WalFileName(String(entry.file.name.prefix(24))),
                    let n = segment.segmentNumber(segmentBytes: segmentBytes), n < oldestStart
                else { continue }
                expiredWal.append(entry.file.objectName)
                report.walBytesDeleted += Int64(entry.storedBytes)
            }
        }
        report.walFilesDeleted = expiredWal.count
        if !dryRun {
            for name in expiredWal { try await backend.delete(name) }
        }

        if dryRun {
            report.bytesAfter += repackBytes.sealed
            return report
        }
        let nothingToDo = delete.isEmpty && repack.isEmpty && unindexed.isEmpty && segmentNames.count <= 1
        if nothingToDo { return report }

        // 4. The packs kept go to the new index as they are; the repacked ones' used sealed
        // blobs are copied as they are into new packs, one a data key, which go to the new
        // index once written. The new index is sealed under a data key of its own.
        var newIndex = IndexSegmentWriter(repository: repository, dataKey: try await repository.createDataKey(now: now()))
        newIndex.maxBlobs = indexSegmentBlobs
        var builders: [DataKeyID: PackBuilder] = [:]
        let replay = PackSelection(index: index, used: used)
        var done = Set<PackID>()
        progress?.start("repacking", items: Int64(repack.count), bytes: repackBytes.packs)
        for name in segmentNames {
            for record in try await packRecords(in: name) where present[record.id.hex] != nil && done.insert(record.id).inserted {
                guard let plan = plans[record.id], plan.sizeBytes == record.sizeBytes, plan.blobCount == record.blobs.count else {
                    throw PruneError.unreadable("index segment \(name.name)", reason: "it changed while prune ran")
                }
                if young.contains(record.id.hex) {
                    replay.keepWhole(record)
                    try await newIndex.add(record)
                    continue
                }
                let wanted = replay.wanted(of: record)
                switch plan.action {
                case .delete:
                    break
                case .keep:
                    try await newIndex.add(record)
                case .repack:
                    try await copy(wanted, of: record, into: &builders, index: &newIndex)
                }
            }
        }
        for (_, var builder) in builders where !builder.isEmpty { try await newIndex.add(written: try await write(&builder)) }
        try await newIndex.finish()
        report.packsWritten = newIndex.packsWritten
        report.bytesAfter += newIndex.bytesWritten
        for name in segmentNames { try await backend.delete(name) }

        // 5. Old packs last.
        for id in delete + repack { try await backend.delete(ObjectName(.data, id)) }
        for id in unindexed { try await backend.delete(ObjectName(.data, id)) }
        return report
    }

    /// The pack records of one index segment (one segment in memory at a time).
    private func packRecords(in name: ObjectName) async throws -> [IndexSegment.PackRecord] {
        do {
            return try IndexSegment.decode(try await repository.loadSealed(name), what: name.path).packs
        } catch {
            throw PruneError.unreadable("index segment \(name.name)", reason: "\(error)")
        }
    }

    /// Reads a pack to repack, checks it against its name, and appends its wanted sealed
    /// blobs to the open pack of its data key; full packs are written and indexed.
    private func copy(
        _ wanted: [Pack.Entry], of record: IndexSegment.PackRecord, into builders: inout [DataKeyID: PackBuilder], index: inout IndexSegmentWriter
    ) async throws {
        let bytes = try await repository.backend.read(ObjectName(.data, record.id))
        defer { progress?.add(items: 1, bytes: Int64(bytes.count)) }
        guard Digest256.sha256(bytes).hex == record.id.hex else {
            throw PruneError.unreadable("pack \(record.id.hex)", reason: "its SHA-256 does not match its name: it is damaged; check the repository reading all its data")
        }
        let key = try await repository.dataKeyRefreshing(record.dataKey)
        for b in wanted {
            // Taken out of the dictionary, not copied: a builder still shared with it would
            // copy its whole pack on every append (a prune of 100,000 small blobs took minutes).
            var builder = builders.removeValue(forKey: record.dataKey) ?? PackBuilder(dataKey: key, nominalTargetBytes: repository.config.packTargetBytes)
            // As the backup's writer: a blob that would overfill the pack (or its header's room) starts the next.
            if builder.wouldOverflow(adding: b.sealedBytes) {
                try await index.add(written: try await write(&builder))
                builder = PackBuilder(dataKey: key, nominalTargetBytes: repository.config.packTargetBytes)
            }
            _ = builder.append(
                sealedBlob: Array(bytes[b.offset..<(b.offset + b.sealedBytes)]), type: b.type, id: b.id, plainBytes: b.plainBytes,
                isCompressed: b.isCompressed)
            if builder.isFull {
                try await index.add(written: try await write(&builder))
            } else {
                builders[record.dataKey] = consume builder
            }
        }
    }

    private func write(_ builder: inout PackBuilder) async throws -> IndexSegment.PackRecord {
        let (bytes, id, entries) = builder.finish()
        try await repository.backend.write(ObjectName(.data, id), bytes: bytes)
        return IndexSegment.PackRecord(id: id, dataKey: builder.dataKey.id, sizeBytes: bytes.count, blobs: entries)
    }
}

public enum PruneError: Error, Sendable, CustomStringConvertible {
    case unreadable(String, reason: String)
    case missingBlob(BlobID, snapshot: SnapshotID)

    public var description: String {
        switch self {
        case .unreadable(let what, let reason):
            return "prune stopped before deleting anything: \(what) is unreadable (\(reason)); repair it or restore it from another location first"
        case .missingBlob(let blob, let snapshot):
            return "prune stopped before deleting anything: snapshot \(snapshot.shortHex) needs blob \(blob.shortHex), which is not in the index; check the repository"
        }
    }
}
