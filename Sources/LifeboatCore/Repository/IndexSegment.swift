/// One `index/<sha256>` object: the packs a backup run wrote and the blobs in them.
///
/// Binary plaintext (then sealed as a ``SealedObject``): magic `LBIX`, version u8 = 1,
/// pack count u32, and per pack its id, its data key id, its size u64, its blob count
/// u32 and per blob: type u8, flags u8 (bit 0: compressed), id, offset u32, sealed
/// length u32, plain length u32. All integers little-endian.
public struct IndexSegment: Sendable {
    public struct PackRecord: Sendable {
        public var id: PackID
        public var dataKey: DataKeyID
        public var sizeBytes: Int
        public var blobs: [Pack.Entry]

        package init(id: PackID, dataKey: DataKeyID, sizeBytes: Int, blobs: [Pack.Entry]) {
            self.id = id
            self.dataKey = dataKey
            self.sizeBytes = sizeBytes
            self.blobs = blobs
        }
    }

    public var packs: [PackRecord] = []
    static let magic = Array("LBIX".utf8)

    public init(packs: [PackRecord] = []) {
        self.packs = packs
    }

    package func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.raw(Self.magic)
        w.u8(1)
        w.u32(UInt32(packs.count))
        for p in packs {
            w.digest(p.id.digest)
            w.digest(p.dataKey.digest)
            w.u64(UInt64(p.sizeBytes))
            w.u32(UInt32(p.blobs.count))
            for b in p.blobs {
                w.u8(b.type.rawValue)
                w.u8(b.isCompressed ? 1 : 0)
                w.digest(b.id.digest)
                w.u32(UInt32(b.offset))
                w.u32(UInt32(b.sealedBytes))
                w.u32(UInt32(b.plainBytes))
            }
        }
        return w.bytes
    }

    package static func decode(_ bytes: [UInt8], what: String) throws -> IndexSegment {
        var r = ByteReader(bytes, what: what)
        guard Array(try r.raw(4)) == magic, try r.u8() == 1 else { throw CryptoError.malformed(what: what, reason: "not an index segment of version 1") }
        let packCount = Int(try r.u32())
        var packs: [PackRecord] = []
        packs.reserveCapacity(min(packCount, r.remaining / 76))
        for _ in 0..<packCount {
            let id = PackID(try r.digest())
            let key = DataKeyID(try r.digest())
            guard let size = Int(exactly: try r.u64()) else { throw CryptoError.malformed(what: what, reason: "pack size out of range") }
            let n = Int(try r.u32())
            guard n <= r.remaining / 46 else { throw CryptoError.malformed(what: what, reason: "blob count \(n) too large") }
            var blobs: [Pack.Entry] = []
            blobs.reserveCapacity(n)
            for _ in 0..<n {
                guard let type = BlobType(rawValue: try r.u8()) else { throw CryptoError.malformed(what: what, reason: "unknown blob type") }
                let flags = try r.u8()
                let blob = BlobID(try r.digest())
                let offset = Int(try r.u32())
                let sealed = Int(try r.u32())
                let plain = Int(try r.u32())
                blobs.append(Pack.Entry(type: type, id: blob, offset: offset, sealedBytes: sealed, plainBytes: plain, isCompressed: flags & 1 != 0))
            }
            packs.append(PackRecord(id: id, dataKey: key, sizeBytes: size, blobs: blobs))
        }
        return IndexSegment(packs: packs)
    }
}

/// All index segments of a repository merged: blob id -> location.
///
/// Entries refer to packs through a small table so that each costs about 20 bytes
/// plus the key, rather than carrying two 32-byte ids.
///
/// A blob may be indexed in several packs (two runs stored it at once, a repack, or an
/// old segment the storage provider replayed after `prune` deleted it). Every copy
/// holds the same authenticated plaintext, so any present one will do; the rule is that
/// an entry whose pack is missing from the location is never preferred to one whose pack
/// is there (``preferPresentPacks(_:)``), and a backup never deduplicates against an
/// entry whose pack is missing (``dropEntriesInMissingPacks()``). Entries that disagree
/// about one pack (its size or data key, or where a blob lies in it) cannot both come
/// from honest writes: they are ``conflicts``, which `check` reports.
public struct MasterIndex: Sendable {
    struct PackInfo: Sendable {
        let id: PackID
        let dataKey: DataKeyID
        let sizeBytes: Int
    }

    struct Entry: Sendable, Equatable {
        let pack: UInt32
        let offset: UInt32
        let sealedBytes: UInt32
        let plainBytes: UInt32
        let type: BlobType
        let isCompressed: Bool
    }

    private(set) var packs: [PackInfo] = []
    /// Index segments that could not be read, with the reason.
    public var problems: [String] = []
    /// Entries that contradict each other about one pack, one line each.
    public private(set) var conflicts: [String] = []
    private var packNumbers: [PackID: UInt32] = [:]
    private var entries: [BlobID: Entry] = [:]
    /// The copies of blobs indexed in more than one pack, beside the one in `entries`.
    private var otherCopies: [BlobID: [Entry]] = [:]
    /// The packs the location holds, with their sizes, once ``preferPresentPacks(_:)`` was told.
    private var presentPacks: [PackID: Int]?

    public init() {}

    public var blobCount: Int { entries.count }
    public var packCount: Int { packs.count }

    public mutating func add(_ segment: IndexSegment) {
        for p in segment.packs { add(p) }
    }

    public mutating func add(_ p: IndexSegment.PackRecord) {
        let number: UInt32
        if let n = packNumbers[p.id] {
            number = n
            let known = packs[Int(n)]
            if known.sizeBytes != p.sizeBytes || known.dataKey != p.dataKey {
                conflicts.append(
                    "pack \(p.id.hex) is indexed as \(known.sizeBytes) bytes under data key \(known.dataKey.shortHex) and as \(p.sizeBytes) bytes under data key \(p.dataKey.shortHex)")
            }
        } else {
            number = UInt32(packs.count)
            packs.append(PackInfo(id: p.id, dataKey: p.dataKey, sizeBytes: p.sizeBytes))
            packNumbers[p.id] = number
        }
        for b in p.blobs {
            let entry = Entry(
                pack: number, offset: UInt32(b.offset), sealedBytes: UInt32(b.sealedBytes), plainBytes: UInt32(b.plainBytes),
                type: b.type, isCompressed: b.isCompressed)
            guard let existing = entries[b.id] else {
                entries[b.id] = entry
                continue
            }
            let copies = [existing] + (otherCopies[b.id] ?? [])
            if let samePack = copies.first(where: { $0.pack == number }) {
                if samePack != entry {
                    conflicts.append("blob \(b.id.hex) is indexed at two different places in pack \(p.id.hex)")
                }
                continue
            }
            otherCopies[b.id, default: []].append(entry)
        }
    }

    /// Makes every blob indexed in several packs refer to a copy whose pack the location
    /// holds with the indexed size, where there is one. Call it with one listing of `data/`.
    public mutating func preferPresentPacks(_ present: [PackID: Int]) {
        presentPacks = present
        for (id, copies) in otherCopies {
            guard let current = entries[id], !isPresent(current.pack, in: present) else { continue }
            if let i = copies.firstIndex(where: { isPresent($0.pack, in: present) }) {
                entries[id] = copies[i]
                otherCopies[id]![i] = current
            }
        }
    }

    private func isPresent(_ pack: UInt32, in present: [PackID: Int]) -> Bool {
        let info = packs[Int(pack)]
        return present[info.id] == info.sizeBytes
    }

    /// Forgets every blob none of whose packs the location holds (as ``preferPresentPacks(_:)``
    /// was told): a backup then stores such blobs again instead of referring to them.
    /// - Returns: the packs indexed but missing (or not of their indexed size), and how many
    ///   blobs were forgotten; nothing when the location's packs were never given.
    public mutating func dropEntriesInMissingPacks() -> (missingPacks: [PackID], blobsDropped: Int) {
        guard let present = presentPacks else { return ([], 0) }
        let missing = Set(packs.indices.filter { !isPresent(UInt32($0), in: present) }.map { UInt32($0) })
        guard !missing.isEmpty else { return ([], 0) }
        let doomed = entries.compactMap { missing.contains($0.value.pack) ? $0.key : nil }
        for id in doomed {
            entries[id] = nil
            otherCopies[id] = nil
        }
        return (missing.map { packs[Int($0)].id }.sorted(), doomed.count)
    }

    public func contains(_ id: BlobID) -> Bool { entries[id] != nil }

    public func location(of id: BlobID) -> BlobLocation? {
        guard let e = entries[id] else { return nil }
        let p = packs[Int(e.pack)]
        return BlobLocation(
            type: e.type, id: id, pack: p.id, dataKey: p.dataKey, offset: Int(e.offset), sealedBytes: Int(e.sealedBytes),
            plainBytes: Int(e.plainBytes), isCompressed: e.isCompressed)
    }

    /// Every indexed pack with its expected size.
    public var packSizes: [PackID: Int] {
        Dictionary(packs.map { ($0.id, $0.sizeBytes) }, uniquingKeysWith: { a, _ in a })
    }

    /// Every blob id, for the backup's deduplication set.
    var blobIDs: Dictionary<BlobID, Entry>.Keys { entries.keys }

    /// Where the index puts a blob in its pack: what `check --read-data` compares with the
    /// pack's own header. (A third the size of a ``BlobLocation``: it is kept for every blob.)
    public struct PackedBlob: Sendable, Equatable {
        public let id: BlobID
        public let type: BlobType
        public let offset: Int
        public let sealedBytes: Int
    }

    /// Blobs grouped by pack (for `check --read-data`).
    public func blobsByPack() -> [PackID: [PackedBlob]] {
        var byOrdinal = [[PackedBlob]](repeating: [], count: packs.count)
        for (id, e) in entries {
            byOrdinal[Int(e.pack)].append(PackedBlob(id: id, type: e.type, offset: Int(e.offset), sealedBytes: Int(e.sealedBytes)))
        }
        var out: [PackID: [PackedBlob]] = [:]
        out.reserveCapacity(packs.count)
        for (ordinal, blobs) in byOrdinal.enumerated() where !blobs.isEmpty {
            out[packs[ordinal].id, default: []].append(contentsOf: blobs)
        }
        return out
    }
}
