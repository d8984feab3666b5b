import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("Packs and index segments")
struct PackAndIndexTests {
    @Test("a pack's header lists its blobs and hides their number behind padding")
    func packRoundTrip() throws {
        let key = DataKey.generate()
        var builder = PackBuilder(dataKey: key, nominalTargetBytes: 1 << 20)
        var ids: [BlobID] = []
        for i in 0..<5 {
            let sealed = [UInt8](repeating: UInt8(i), count: 100 + i)
            let id = BlobID(Digest256.random())
            ids.append(id)
            _ = builder.append(sealedBlob: sealed, type: i == 4 ? .tree : .data, id: id, plainBytes: 200, isCompressed: i % 2 == 0)
        }
        let (bytes, packID, entries) = builder.finish()
        #expect(packID == PackID(Digest256.sha256(bytes)))
        let (keyID, parsed) = try Pack.readHeader(of: bytes, keys: { _ in key }, name: ObjectName(.data, packID))
        #expect(keyID == key.id)
        #expect(parsed == entries)
        #expect(parsed.map(\.id) == ids)
        #expect(parsed[4].type == .tree && parsed[0].isCompressed && !parsed[1].isCompressed)
    }

    @Test("a pack is finished before a blob would take it past its target, or its header past the room kept for it, so that it never outgrows its buffer", arguments: [
        (blobBytes: 300_000, blobs: 40), (blobBytes: 60, blobs: 30_000),
    ])
    func packStaysInItsBuffer(blobBytes: Int, blobs: Int) throws {
        let key = DataKey.generate()
        var builder = PackBuilder(dataKey: key, nominalTargetBytes: 4 << 20)
        let reserved = builder.bytes.capacity
        #expect(reserved >= builder.target.maxPackBytes)
        var finished: [(bytes: [UInt8], entries: [Pack.Entry])] = []
        for _ in 0..<blobs {
            let sealed = [UInt8](repeating: 7, count: blobBytes)
            if builder.wouldOverflow(adding: sealed.count) { finished.append(Self.finish(&builder, key: key, reserved: reserved)) }
            _ = builder.append(sealedBlob: sealed, type: .data, id: BlobID(Digest256.random()), plainBytes: blobBytes, isCompressed: false)
            if builder.isFull { finished.append(Self.finish(&builder, key: key, reserved: reserved)) }
        }
        if !builder.isEmpty { finished.append(Self.finish(&builder, key: key, reserved: reserved)) }
        #expect(finished.reduce(0) { $0 + $1.entries.count } == blobs)
        for pack in finished.dropLast() {
            let data = pack.entries.reduce(0) { $0 + $1.sealedBytes }
            // Full by its data, or by its header's room (12,000 small blobs).
            #expect(data + blobBytes > 4 << 20 - (4 << 20) / 16 || pack.entries.count > 11_000, "\(data) bytes in \(pack.entries.count) blobs")
        }
    }

    /// Finishes `builder` (checking that its buffer never grew: grown, it would have
    /// doubled) and starts the next pack in its place.
    static func finish(_ builder: inout PackBuilder, key: DataKey, reserved: Int) -> (bytes: [UInt8], entries: [Pack.Entry]) {
        let (bytes, _, entries) = builder.finish()
        #expect(bytes.capacity < reserved + (1 << 20), "\(bytes.capacity) against \(reserved)")
        #expect(bytes.count <= reserved)
        builder = PackBuilder(dataKey: key, nominalTargetBytes: 4 << 20)
        return (bytes, entries)
    }

    @Test("a damaged pack header is detected")
    func damagedHeader() {
        let key = DataKey.generate()
        var builder = PackBuilder(dataKey: key, nominalTargetBytes: 1 << 20)
        _ = builder.append(sealedBlob: [1, 2, 3], type: .data, id: BlobID(Digest256.random()), plainBytes: 3, isCompressed: false)
        var (bytes, packID, _) = builder.finish()
        bytes[bytes.count - 40] ^= 1
        #expect(throws: RepositoryError.self) { try Pack.readHeader(of: bytes, keys: { _ in key }, name: ObjectName(.data, packID)) }
    }

    @Test("index segments round-trip and merge into the master index")
    func indexRoundTrip() throws {
        let blob = BlobID(Digest256.random())
        let record = IndexSegment.PackRecord(
            id: PackID(Digest256.random()), dataKey: DataKeyID(Digest256.random()), sizeBytes: 1234,
            blobs: [Pack.Entry(type: .data, id: blob, offset: 0, sealedBytes: 50, plainBytes: 80, isCompressed: true)])
        let decoded = try IndexSegment.decode(IndexSegment(packs: [record]).encoded(), what: "t")
        var index = MasterIndex()
        index.add(decoded)
        let loc = try #require(index.location(of: blob))
        #expect(loc.pack == record.id && loc.dataKey == record.dataKey && loc.sealedBytes == 50 && loc.plainBytes == 80 && loc.isCompressed)
        #expect(index.packSizes[record.id] == 1234)
        #expect(throws: CryptoError.self) { try IndexSegment.decode(Array(IndexSegment(packs: [record]).encoded().dropLast(3)), what: "t") }
    }

    static func record(_ pack: PackID, size: Int = 1000, key: DataKeyID, _ blobs: [(BlobID, Int)]) -> IndexSegment.PackRecord {
        IndexSegment.PackRecord(
            id: pack, dataKey: key, sizeBytes: size,
            blobs: blobs.map { Pack.Entry(type: .data, id: $0.0, offset: $0.1, sealedBytes: 50, plainBytes: 80, isCompressed: false) })
    }

    @Test("a blob indexed in a missing pack and a present one resolves to the present one, whichever segment came first; a backup's view drops blobs with no present copy")
    func preferPresentPacks() throws {
        let key = DataKeyID(Digest256.random())
        let (moved, lost, kept) = (BlobID(Digest256.random()), BlobID(Digest256.random()), BlobID(Digest256.random()))
        let (gone, current) = (PackID(Digest256.random()), PackID(Digest256.random()))
        var index = MasterIndex()
        // The replayed old segment first: under "first met wins" it would decide.
        index.add(Self.record(gone, key: key, [(moved, 0), (lost, 100)]))
        index.add(Self.record(current, key: key, [(moved, 0), (kept, 100)]))
        #expect(index.conflicts.isEmpty)
        #expect(index.location(of: moved)?.pack == gone)
        index.preferPresentPacks([current: 1000])
        #expect(index.location(of: moved)?.pack == current)
        #expect(index.location(of: lost)?.pack == gone, "a restore still names the pack it needs")
        let dropped = index.dropEntriesInMissingPacks()
        #expect(dropped.missingPacks == [gone] && dropped.blobsDropped == 1)
        #expect(!index.contains(lost) && index.contains(moved) && index.contains(kept))
        // A pack of another size than indexed is not trusted either.
        var resized = MasterIndex()
        resized.add(Self.record(current, key: key, [(kept, 0)]))
        resized.preferPresentPacks([current: 999])
        #expect(resized.dropEntriesInMissingPacks().blobsDropped == 1)
    }

    @Test("the sorted index finds what a dictionary of the same segments finds: many segments, copies in several packs, lookups between adds, missing packs dropped")
    func sortedIndexAgreesWithDictionary() throws {
        var rng = SeededBytes(seed: 16)
        let key = DataKeyID(Digest256.random())
        let packs = (0..<40).map { _ in PackID(Digest256(rng.bytes(32))) }
        var ids: [BlobID] = []
        var model: [BlobID: PackID] = [:]  // the first pack met, as "first met wins" before any listing
        var everyPack: [BlobID: [PackID]] = [:]
        var index = MasterIndex()
        var added = 0
        for (n, pack) in packs.enumerated() {
            // Each pack holds new blobs and every 7th earlier one again (a second copy elsewhere).
            var blobs: [(BlobID, Int)] = []
            for i in 0..<700 {
                let id = BlobID(Digest256(rng.bytes(32)))
                ids.append(id)
                blobs.append((id, i * 64))
            }
            for (i, earlier) in ids.prefix(added).enumerated() where i % 7 == n % 7 { blobs.append((earlier, 700 * 64 + i * 64)) }
            for (id, _) in blobs {
                if model[id] == nil { model[id] = pack }
                everyPack[id, default: []].append(pack)
            }
            added = ids.count
            index.add(Self.record(pack, size: 1 << 20, key: key, blobs))
            // A lookup between adds sees every blob added so far.
            #expect(index.location(of: blobs[n * 3 % blobs.count].0) != nil)
            // Halfway, sort what is there: later copies then meet sorted records and their copies.
            if n == 20 { index.consolidate() }
        }
        #expect(index.conflicts.isEmpty)
        #expect(index.blobCount == model.count)
        index.consolidate()  // as every reader's load ends (a lookup in what is not sorted is a scan)
        for id in ids { #expect(index.location(of: id)?.pack == model[id]) }
        for _ in 0..<1000 { #expect(!index.contains(BlobID(Digest256(rng.bytes(32))))) }
        // Half the packs are gone: blobs with a copy in a present pack move to it, the rest drop.
        let present = Dictionary(uniqueKeysWithValues: packs.enumerated().filter { $0.offset % 2 == 0 }.map { ($0.element, 1 << 20) })
        index.preferPresentPacks(present)
        let dropped = index.dropEntriesInMissingPacks()
        #expect(dropped.missingPacks.count == 20)
        var survivors = 0
        for id in ids {
            let hasPresentCopy = everyPack[id]!.contains { present[$0] != nil }
            #expect(index.contains(id) == hasPresentCopy)
            guard let location = index.location(of: id) else { continue }
            survivors += 1
            #expect(present[location.pack] != nil)
        }
        #expect(survivors == index.blobCount && survivors + dropped.blobsDropped == model.count)
        #expect(MasterIndex.bytesPerBlob == 40)
    }

    @Test("index records that disagree about one pack are conflicts")
    func conflicts() {
        let key = DataKeyID(Digest256.random())
        let blob = BlobID(Digest256.random())
        let pack = PackID(Digest256.random())
        var index = MasterIndex()
        index.add(Self.record(pack, key: key, [(blob, 0)]))
        index.add(Self.record(pack, key: key, [(blob, 0)]))
        #expect(index.conflicts.isEmpty, "the same record twice is no conflict")
        index.add(Self.record(pack, key: key, [(blob, 64)]))
        index.add(Self.record(pack, size: 2000, key: key, []))
        index.add(Self.record(pack, key: DataKeyID(Digest256.random()), []))
        #expect(index.conflicts.count == 3, "\(index.conflicts)")
    }

    @Test("an old index segment replayed after a repack cannot make a blob look lost: restores use the present copy, check names the missing pack")
    func replayedSegment() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 95)
        try FileTree.write(source + "/keep.bin", rng.bytes(300_000))
        try FileTree.write(source + "/drop.bin", rng.bytes(3 << 20))
        let repoPath = scratch.path + "/repo"
        let repo = try await TestRepository.create(at: repoPath)
        let first = try await TestRepository.backup(repo, [source])
        try FileManager.default.removeItem(atPath: source + "/drop.bin")
        let second = try await TestRepository.backup(repo, [source])
        try await repo.backend.delete(ObjectName(.snapshots, first.snapshotID.hex))
        var oldSegments: [ObjectName: [UInt8]] = [:]
        for info in try await repo.backend.list(.index) { oldSegments[info.name] = try await repo.backend.read(info.name) }
        var pruner = Pruner(repository: repo)
        pruner.packGracePeriod = .zero  // the packs were written a moment ago
        #expect(try await pruner.prune(host: "h", username: "u").packsRepacked == 1)
        // The provider puts the deleted segments back, and lists them first.
        for (name, bytes) in oldSegments where !(try await repo.backend.exists(name)) {
            try await repo.backend.write(name, bytes: bytes)
        }
        let replaying = ListingFirstBackend(try LocalDirectoryBackend(path: repoPath), first: Set(oldSegments.keys))
        let opened = try await Repository.open(backend: replaying, passphrase: TestRepository.passphrase)

        let target = scratch.path + "/restore"
        let restored = try await Restorer(repository: opened).restore(second.snapshot, options: RestoreOptions(target: target))
        #expect(restored.isComplete, "\(restored.damagedFiles) \(restored.errors)")
        #expect(FileManager.default.contents(atPath: target + source + "/keep.bin") == FileManager.default.contents(atPath: source + "/keep.bin"))
        let check = try await Checker(repository: opened).check(readData: false)
        #expect(check.errors.contains { $0.contains("missing from the location") }, "\(check.errors)")
        #expect(!check.errors.contains { $0.contains("not in the index") })
        // Prune rewrites the index from what is present: the replayed segments go.
        var again = Pruner(repository: opened)
        again.packGracePeriod = .zero
        _ = try await again.prune(host: "h", username: "u")
        let after = try await Checker(repository: opened).check(readData: true)
        #expect(after.isOK, "\(after.errors)")
    }

    @Test("an index segment declaring a pack size beyond Int is refused, not trapped on")
    func impossiblePackSize() throws {
        let record = IndexSegment.PackRecord(id: PackID(Digest256.random()), dataKey: DataKeyID(Digest256.random()), sizeBytes: 0, blobs: [])
        var bytes = IndexSegment(packs: [record]).encoded()
        // magic (4), version (1), pack count (4), pack id (32), data key id (32), then the size.
        bytes.replaceSubrange(73..<81, with: repeatElement(0xFF, count: 8))
        #expect(throws: CryptoError.self) { try IndexSegment.decode(bytes, what: "t") }
    }
}

/// Lists the objects `first` before the others, as a location is free to: the order of a
/// listing is not part of any contract.
final class ListingFirstBackend: StorageBackend {
    let inner: any StorageBackend
    let first: Set<ObjectName>

    init(_ inner: any StorageBackend, first: Set<ObjectName>) {
        self.inner = inner
        self.first = first
    }

    var locationDescription: String { inner.locationDescription }
    func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws { try await inner.write(name, bytes: bytes, overwrite: overwrite) }
    func read(_ name: ObjectName) async throws -> [UInt8] { try await inner.read(name) }
    func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] { try await inner.read(name, offset: offset, length: length) }
    func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    func listing(_ kind: ObjectKind) async throws -> ObjectListing {
        var listing = try await inner.listing(kind)
        listing.objects = listing.objects.filter { first.contains($0.name) } + listing.objects.filter { !first.contains($0.name) }
        return listing
    }
    func delete(_ name: ObjectName) async throws { try await inner.delete(name) }
}
