@preconcurrency import Crypto
import Foundation

/// `lifeboat check`: the structure of a repository and, with `readData`, every byte.
///
/// Structure: every index segment opens; every indexed pack exists with the size the
/// index says; every snapshot opens; every tree and content blob a snapshot refers to is
/// indexed. Data: every pack is read whole; its SHA-256 must equal its name, its header
/// must authenticate and agree with the index, and each blob must authenticate,
/// decompress and hash (HMAC) back to its id. Packs are read by `width` tasks at once.
/// Archived WAL: names, the segments each PostgreSQL base backup needs, timelines that no
/// snapshot follows (a restored copy's), and (with `readData`) every object opened and hashed.
public struct Checker: Sendable {
    public let repository: Repository
    public var width = max(2, ProcessInfo.processInfo.activeProcessorCount)
    /// How much of a pack is read and held at once: the blobs of a window, or one blob when
    /// it is larger. A pack of any size (up to 1 GiB and a blob) is checked within it, so
    /// `check --read-data` holds at most `width` windows. 4 MiB: with 32 MiB every 16 MiB
    /// pack was held whole, and a backup's read-back raised its peak RSS by 16 MiB over its
    /// writing; reads from object storage go through whole-pack caching anyway.
    public var packWindowBytes = 4 << 20
    /// Counts the packs (and their bytes) `readData` has read, for a progress display.
    public var progress: ProgressMeter?

    public init(repository: Repository) {
        self.repository = repository
    }

    /// - Parameter subset: with `readData`, read only these packs and WAL objects (the structure is checked in full).
    public func check(readData: Bool, subset: ReadDataSubset? = nil) async throws -> CheckReport {
        var report = CheckReport()
        let backend = repository.backend
        // Pack headers name their key synchronously: every key written so far must be known.
        try await repository.refreshDataKeys()

        var index = MasterIndex()
        let segments = try await backend.list(.index)
        index.reserveCapacity(segmentBytes: segments.reduce(0) { $0 + $1.sizeBytes })
        for info in segments {
            do {
                let plain = try await repository.loadSealed(info.name)
                index.add(try IndexSegment.decode(plain, what: info.name.path))
            } catch {
                report.errors.append("index \(info.name.name): \(error)")
            }
        }

        let packs = try await backend.list(.data)
        let present = Dictionary(packs.map { ($0.name.name, $0.sizeBytes) }, uniquingKeysWith: { a, _ in a })
        index.preferPresentPacks(Dictionary(packs.compactMap { info in PackID(hex: info.name.name).map { ($0, info.sizeBytes) } }, uniquingKeysWith: { a, _ in a }))
        // Entries that contradict each other about a pack cannot all come from honest writes.
        for conflict in index.conflicts { report.errors.append("conflicting index entries: \(conflict)") }
        let expected = index.packSizes
        for (id, size) in expected.sorted(by: { $0.key < $1.key }) {
            guard let actual = present[id.hex] else {
                report.errors.append("pack \(id.hex) is in the index but missing from the location")
                continue
            }
            if actual != size { report.errors.append("pack \(id.hex) is \(actual) bytes, the index says \(size)") }
        }
        for info in packs where PackID(hex: info.name.name).map({ expected[$0] == nil }) ?? true {
            report.warnings.append("pack \(info.name.name) is not indexed (left by an interrupted backup; harmless)")
        }

        var seenTrees = Set<BlobID>()
        var snapshots: [(SnapshotID, Snapshot)] = []
        for info in try await backend.list(.snapshots) {
            guard let id = SnapshotID(hex: info.name.name) else {
                report.errors.append("snapshots/\(info.name.name) is not named by a SHA-256")
                continue
            }
            let snapshot: Snapshot
            do {
                snapshot = try await repository.loadSnapshot(id)
            } catch {
                report.errors.append("snapshot \(id.shortHex): \(error)")
                continue
            }
            report.snapshotsChecked += 1
            snapshots.append((id, snapshot))
            var stack = [(snapshot.tree, "/")]
            while let (treeID, path) = stack.popLast() {
                try Task.checkCancellation()
                guard seenTrees.insert(treeID).inserted else { continue }
                report.treesChecked += 1
                let tree: Tree
                do {
                    tree = try await repository.loadTree(treeID, index: index)
                } catch {
                    report.errors.append("snapshot \(id.shortHex), directory \(path): tree \(treeID.shortHex): \(error)")
                    continue
                }
                for node in tree.nodes {
                    if let sub = node.subtree { stack.append((sub, path + node.name + "/")) }
                    for blob in node.content where !index.contains(blob) {
                        report.errors.append("snapshot \(id.shortHex), file \(path)\(node.name): blob \(blob.shortHex) is not in the index")
                    }
                }
            }
        }

        if readData {
            try await readAllPacks(subset.map { $0.select(packs) { $0.name.name } } ?? packs, index: index, into: &report)
        }
        try await checkWal(readData: readData, subset: subset, snapshots: snapshots, into: &report)
        // Keys that are no object name were never used above; a location is only clean
        // when it holds nothing but what the format allows.
        report.errors += try await backend.rejectedKeys().map(\.description)
        return report
    }

    /// Archived WAL: every object in `wal/` has a name PostgreSQL archives; every PostgreSQL
    /// base backup's segments, from its first to its last, are there; with `readData`
    /// each object opens, holds the file its name says, and hashes to its recorded SHA-256.
    private func checkWal(readData: Bool, subset: ReadDataSubset?, snapshots: [(SnapshotID, Snapshot)], into report: inout CheckReport) async throws {
        let archive = WalArchive(repository: repository)
        let objects = try await repository.backend.list(.wal)
        let entries = WalArchive.entries(objects)
        let valid = Set(entries.map(\.file.objectName))
        for info in objects where !valid.contains(info.name) {
            report.errors.append("wal/\(info.name.name) is not a name PostgreSQL archives")
        }
        let archived = Set(entries.map(\.file))
        for (id, snapshot) in snapshots where snapshot.type != .transactionLog {
            guard let facts = snapshot.postgres, let first = WalFileName(facts.startWal), let last = WalFileName(facts.stopWal),
                let from = first.segmentNumber(segmentBytes: facts.walSegmentBytes), let to = last.segmentNumber(segmentBytes: facts.walSegmentBytes)
            else { continue }
            for n in from...max(from, to) {
                let needed = WalFileName(timeline: facts.timeline, segmentNumber: n, segmentBytes: facts.walSegmentBytes)
                if !archived.contains(needed) {
                    report.errors.append("snapshot \(id.shortHex) needs WAL segment \(needed.name), which is not archived")
                }
            }
        }
        do {
            for (timeline, segments) in try await archive.unfollowedTimelines(snapshots: snapshots.compactMap(\.1.postgres)) {
                let history = WalFileName.hex8(UInt64(timeline))
                report.warnings.append(
                    "timeline \(timeline) (wal/\(history)/\(history).history and \(segments) segments) is followed by no snapshot: a cluster restored beside production may have archived it; restores follow the timelines production's snapshots recorded, not this one (if production was promoted onto it, take a backup)"
                )
            }
        } catch {
            report.errors.append("the timeline histories in wal/: \(error)")
        }
        guard readData else { return }
        for entry in subset.map({ $0.select(entries) { $0.file.objectName.name } }) ?? entries {
            try Task.checkCancellation()
            do {
                _ = try await archive.read(entry.file)  // opening checks the seal, the name inside and the SHA-256
                report.bytesRead += Int64(entry.storedBytes)
            } catch {
                report.errors.append("wal/\(entry.file.objectName.name): \(error)")
            }
            report.objectsChecked += 1
        }
    }

    /// The post-backup read-back: every pack and index segment a backup wrote is read back
    /// from the location; each pack's SHA-256 must equal its name, its header and every blob
    /// must authenticate and hash back to its id; each index segment must open.
    public func readBack(_ objects: [ObjectInfo]) async throws -> CheckReport {
        var report = CheckReport()
        var index = MasterIndex()
        for info in objects where info.name.kind == .index {
            do {
                index.add(try IndexSegment.decode(try await repository.loadSealed(info.name), what: info.name.path))
                report.objectsChecked += 1
            } catch let error as StorageError {
                throw error
            } catch {
                report.errors.append("index \(info.name.name): \(error)")
            }
        }
        index.consolidate()
        try await readAllPacks(objects.filter { $0.name.kind == .data }, index: index, into: &report)
        return report
    }

    private func readAllPacks(_ packs: [ObjectInfo], index: MasterIndex, into report: inout CheckReport) async throws {
        let byPack = index.blobsByPack()
        progress?.start("reading packs", items: Int64(packs.count), bytes: packs.reduce(0) { $0 + Int64($1.sizeBytes) })
        try await withThrowingTaskGroup(of: PackResult.self) { group in
            var iterator = packs.makeIterator()
            var running = 0
            while true {
                while running < width, let info = iterator.next() {
                    try Task.checkCancellation()
                    running += 1
                    let expected = PackID(hex: info.name.name).flatMap { byPack[$0] } ?? []
                    group.addTask { await self.readPack(info, expected: expected) }
                }
                guard running > 0, let done = try await group.next() else { break }
                running -= 1
                report.packsChecked += 1
                report.blobsChecked += done.blobs
                report.bytesRead += done.bytes
                report.errors.append(contentsOf: done.errors)
                progress?.add(items: 1, bytes: done.bytes)
            }
        }
    }

    struct PackResult: Sendable {
        var blobs = 0
        var bytes: Int64 = 0
        var errors: [String] = []
    }

    /// The first read from a pack's end: its trailer and, nearly always, its whole header
    /// (at most 64 KiB of padding and 42 bytes a blob).
    static let packTailBytes = 256 << 10

    private func readPack(_ info: ObjectInfo, expected: [MasterIndex.PackedBlob]) async -> PackResult {
        var result = PackResult()
        let name = info.name
        let backend = repository.backend
        guard let packID = PackID(hex: name.name) else { return result }  // a data object's name is its id by construction
        // The pack is read from its end (header), then its blobs a window at a time, each
        // window fed to the SHA-256 of the whole file: memory stays within a window, not a pack.
        let size: Int
        var tail: [UInt8]
        let entries: [Pack.Entry]
        let keyID: DataKeyID
        do {
            size = info.sizeBytes > 0 ? info.sizeBytes : try await backend.size(of: name)
            guard size >= Pack.trailerBytes else { throw RepositoryError.damaged(name, reason: "shorter than its trailer") }
            tail = try await backend.read(name, offset: size - min(size, Self.packTailBytes), length: min(size, Self.packTailBytes))
            let needed = try Pack.headerLength(tail: tail, name: name) + Pack.trailerBytes
            if needed > tail.count && needed <= size {
                tail = try await backend.read(name, offset: size - needed, length: needed)
            } else if needed <= tail.count {
                // Blob bytes the first read took along are read again with their window.
                tail = Array(tail.suffix(needed))
            }
            (keyID, entries) = try Pack.readHeader(tail: tail, packBytes: size, keys: { try repository.dataKey($0) }, name: name)
        } catch {
            result.errors.append("pack \(name.name): \(error)")
            return result
        }
        var hasher = SHA256()
        var blobErrors: [String] = []
        var offset = 0
        var next = 0
        let blobsEnd = size - tail.count
        let expectedByKey = Dictionary(expected.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        while offset < blobsEnd {
            // Whole blobs up to the window (at least one); bytes no entry covers are hashed all the same.
            var end = offset
            var last = next
            while last < entries.count, entries[last].offset + entries[last].sealedBytes <= blobsEnd,
                end == offset || entries[last].offset + entries[last].sealedBytes - offset <= packWindowBytes
            {
                end = entries[last].offset + entries[last].sealedBytes
                last += 1
            }
            if last == next { end = min(blobsEnd, offset + packWindowBytes) }
            let window: [UInt8]
            do {
                window = try await backend.read(name, offset: offset, length: end - offset)
            } catch {
                result.errors.append("pack \(name.name): \(error)")
                return result
            }
            hasher.update(data: window)
            for e in entries[next..<last] {
                let loc = BlobLocation(
                    type: e.type, id: e.id, pack: packID, dataKey: keyID,
                    offset: e.offset, sealedBytes: e.sealedBytes, plainBytes: e.plainBytes, isCompressed: e.isCompressed)
                if let indexed = expectedByKey[BlobKey(e.id)], indexed.offset != e.offset || indexed.sealedBytes != e.sealedBytes {
                    blobErrors.append("pack \(name.name): blob \(e.id.shortHex) is at a different place than the index says")
                }
                do {
                    let plain = try window.withUnsafeBytes { w in
                        try repository.openBlob(UnsafeRawBufferPointer(rebasing: w[(e.offset - offset)..<(e.offset - offset + e.sealedBytes)]), location: loc)
                    }
                    if repository.masterKey.blobID(of: plain) != e.id {
                        blobErrors.append("pack \(name.name): blob \(e.id.shortHex) does not hash to its id")
                    }
                } catch {
                    blobErrors.append("pack \(name.name): blob \(e.id.shortHex): \(error)")
                }
                result.blobs += 1
            }
            result.bytes += Int64(window.count)
            offset = end
            next = last
        }
        hasher.update(data: tail)
        result.bytes += Int64(tail.count)
        guard Digest256(hasher.finalize()).hex == name.name else {
            result.errors.append("pack \(name.name): its SHA-256 does not match its name: the file is damaged")
            return result
        }
        result.errors += blobErrors
        let inHeader = Set(entries.map { BlobKey($0.id) })
        for loc in expected where !inHeader.contains(loc.key) {
            result.errors.append("pack \(name.name): blob \(loc.key.shortHex) is indexed here but not in the pack's header")
        }
        return result
    }
}
