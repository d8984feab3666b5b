/// All index segments of a repository merged: blob id -> location.
///
/// A blob may be indexed in several packs (two runs stored it at once, a repack, or an
/// old segment the storage provider replayed after `prune` deleted it). Every copy
/// holds the same authenticated plaintext, so any present one will do; the rule is that
/// an entry whose pack is missing from the location is never preferred to one whose pack
/// is there (``preferPresentPacks(_:)``), and a backup never deduplicates against an
/// entry whose pack is missing (``dropEntriesInMissingPacks()``). Entries that disagree
/// about one pack (its size or data key, or where a blob lies in it) cannot both come
/// from honest writes: they are ``conflicts``, which `check` reports.
///
/// Memory is what bounds a repository's size, so a blob costs one 40-byte record and
/// nothing else: 24 bytes of its id (``BlobKey``: 192 bits of a keyed HMAC) and 16 of
/// location. Records live in one array sorted by key and are found through a directory of
/// the keys' leading bits (blob ids are HMACs, so the buckets are even). No hash table, no
/// allocation per blob. Segments are appended as they are read and sorted in place before
/// the index is used (radix passes a byte at a time, then each small bucket), so loading
/// never holds a second copy of the index.
public struct MasterIndex: Sendable {
    struct PackInfo: Sendable {
        let id: PackID
        let dataKey: DataKeyID
        let sizeBytes: Int
    }

    /// One copy of one blob. The blob type and the compression flag ride in the top three
    /// bits of the pack number, which keeps the record at 40 bytes.
    struct Record: Sendable, Equatable {
        let key: BlobKey
        private let packAndFlags: UInt32
        let offset: UInt32
        let sealedBytes: UInt32
        let plainBytes: UInt32

        private static let compressedBit: UInt32 = 1 << 31
        private static let typeShift: UInt32 = 29
        static let packLimit: UInt32 = 1 << typeShift

        init(pack: UInt32, _ entry: Pack.Entry) {
            precondition(entry.type.rawValue < 4, "a blob type fits in two bits")
            key = BlobKey(entry.id)
            packAndFlags = pack | UInt32(entry.type.rawValue) << Self.typeShift | (entry.isCompressed ? Self.compressedBit : 0)
            offset = UInt32(entry.offset)
            sealedBytes = UInt32(entry.sealedBytes)
            plainBytes = UInt32(entry.plainBytes)
        }

        var pack: UInt32 { packAndFlags & (Self.packLimit - 1) }
        var type: BlobType { BlobType(rawValue: UInt8(packAndFlags >> Self.typeShift & 3))! }
        var isCompressed: Bool { packAndFlags & Self.compressedBit != 0 }

        /// The records' order: by key, then by pack number (the order packs were met in).
        static func precedes(_ a: Record, _ b: Record) -> Bool {
            let (x, y) = (a.key, b.key)
            if x.w0 != y.w0 { return x.w0 < y.w0 }
            if x.w1 != y.w1 { return x.w1 < y.w1 }
            if x.w2 != y.w2 { return x.w2 < y.w2 }
            return a.pack < b.pack
        }
    }

    private(set) var packs: [PackInfo] = []
    /// Index segments that could not be read, with the reason.
    public var problems: [String] = []
    private var packNumbers: [PackID: UInt32] = [:]
    /// One record per blob, its preferred copy: sorted by id up to `sortedCount`, then the
    /// records added since the last ``consolidate()`` in the order they came.
    private var records: [Record] = []
    private var sortedCount = 0
    /// Where the sorted records of each value of the ids' leading `directoryBits` bits
    /// start, and one more entry for the end.
    private var directory: [UInt32] = [0, 0]
    private var directoryBits = 0
    /// The copies of blobs indexed in more than one pack, beside the one in `records`.
    private var otherCopies: [BlobKey: [Record]] = [:]
    /// The packs the location holds, with their sizes, once ``preferPresentPacks(_:)`` was told.
    private var presentPacks: [PackID: Int]?
    private var settledConflicts: [String] = []

    public init() {}

    /// Entries that contradict each other about one pack, one line each.
    public var conflicts: [String] { settled.settledConflicts }
    public var blobCount: Int { settled.records.count }
    public var packCount: Int { packs.count }

    /// Bytes the index holds per blob, beside the pack table: what BENCHMARKS.md reports.
    public static var bytesPerBlob: Int { MemoryLayout<Record>.stride }

    /// Makes room at once for the blobs of index segments of `segmentBytes` sealed bytes in
    /// all, so that reading many segments does not grow the array by doubling (which can
    /// leave half of it unused). A segment spends 46 bytes on a blob, of which compression
    /// leaves at least the blob id's 32 random bytes (about 34 in practice): the estimate
    /// is a few percent over, never under, and pages of the array never written are never
    /// resident.
    public mutating func reserveCapacity(segmentBytes: Int) {
        records.reserveCapacity(records.count + segmentBytes / 32)
    }

    public mutating func add(_ segment: IndexSegment) {
        for p in segment.packs { add(p) }
    }

    public mutating func add(_ p: IndexSegment.PackRecord) {
        let number: UInt32
        if let n = packNumbers[p.id] {
            number = n
            let known = packs[Int(n)]
            if known.sizeBytes != p.sizeBytes || known.dataKey != p.dataKey {
                settledConflicts.append(
                    "pack \(p.id.hex) is indexed as \(known.sizeBytes) bytes under data key \(known.dataKey.shortHex) and as \(p.sizeBytes) bytes under data key \(p.dataKey.shortHex)")
            }
        } else {
            number = UInt32(packs.count)
            precondition(number < Record.packLimit, "more packs than an index record can number")
            packs.append(PackInfo(id: p.id, dataKey: p.dataKey, sizeBytes: p.sizeBytes))
            packNumbers[p.id] = number
        }
        for b in p.blobs { records.append(Record(pack: number, b)) }
        // Lookups scan what is not sorted yet; sorting whenever it grows ninefold keeps that
        // bounded for callers that look up between adds, at little more than one sort overall.
        if records.count - sortedCount > max(1 << 16, 8 * sortedCount) { consolidate() }
    }

    /// Makes every blob indexed in several packs refer to a copy whose pack the location
    /// holds with the indexed size, where there is one. Call it with one listing of `data/`.
    public mutating func preferPresentPacks(_ present: [PackID: Int]) {
        consolidate()
        presentPacks = present
        applyPreference(present)
    }

    private mutating func applyPreference(_ present: [PackID: Int]) {
        for (key, copies) in otherCopies {
            guard let i = position(of: key), !isPresent(records[i].pack, in: present) else { continue }
            if let j = copies.firstIndex(where: { isPresent($0.pack, in: present) }) {
                otherCopies[key]![j] = records[i]
                records[i] = copies[j]
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
        consolidate()
        let missing = packs.indices.map { !isPresent(UInt32($0), in: present) }
        guard missing.contains(true) else { return ([], 0) }
        // The preferred copy is a present one wherever there is one, so a blob whose
        // preferred copy is missing has no copy left.
        var kept = 0
        for i in records.indices {
            let record = records[i]
            if missing[Int(record.pack)] {
                otherCopies[record.key] = nil
            } else {
                records[kept] = record
                kept += 1
            }
        }
        let dropped = records.count - kept
        records.removeLast(dropped)
        sortedCount = records.count
        rebuildDirectory()
        return (packs.indices.filter { missing[$0] }.map { packs[$0].id }.sorted(), dropped)
    }

    public func contains(_ id: BlobID) -> Bool { position(of: id) != nil }

    public func location(of id: BlobID) -> BlobLocation? {
        guard let i = position(of: id) else { return nil }
        let e = records[i]
        let p = packs[Int(e.pack)]
        return BlobLocation(
            type: e.type, id: id, pack: p.id, dataKey: p.dataKey, offset: Int(e.offset), sealedBytes: Int(e.sealedBytes),
            plainBytes: Int(e.plainBytes), isCompressed: e.isCompressed)
    }

    /// Every indexed pack with its expected size.
    public var packSizes: [PackID: Int] {
        Dictionary(packs.map { ($0.id, $0.sizeBytes) }, uniquingKeysWith: { a, _ in a })
    }

    /// Where the index puts a blob in its pack: what `check --read-data` compares with the
    /// pack's own header. (A third the size of a ``BlobLocation``: it is kept for every blob.)
    public struct PackedBlob: Sendable, Equatable {
        public let key: BlobKey
        public let type: BlobType
        public let offset: Int
        public let sealedBytes: Int
    }

    /// Blobs grouped by pack (for `check --read-data`).
    public func blobsByPack() -> [PackID: [PackedBlob]] {
        let index = settled
        var byOrdinal = [[PackedBlob]](repeating: [], count: packs.count)
        for e in index.records {
            byOrdinal[Int(e.pack)].append(PackedBlob(key: e.key, type: e.type, offset: Int(e.offset), sealedBytes: Int(e.sealedBytes)))
        }
        var out: [PackID: [PackedBlob]] = [:]
        out.reserveCapacity(packs.count)
        for (ordinal, blobs) in byOrdinal.enumerated() where !blobs.isEmpty {
            out[packs[ordinal].id, default: []].append(contentsOf: blobs)
        }
        return out
    }

    // MARK: - Marks

    /// A set of this index's blobs at one bit a blob (the records are its universe): what
    /// `prune` marks as used, for a three-hundredth of the memory of a `Set<BlobID>`. Valid
    /// for the index that made it, as long as nothing is added to or dropped from it.
    /// (A class: the Swift 6.3 optimizer crashes on the struct held `inout` across the
    /// suspension points of a tree walk.) One task uses it at a time.
    public final class BlobMarks: @unchecked Sendable {
        private var words: [UInt64]

        fileprivate init(count: Int) {
            words = [UInt64](repeating: 0, count: (count + 63) / 64)
        }

        fileprivate func set(_ i: Int) -> Bool {
            let bit = UInt64(1) << UInt64(i % 64)
            guard words[i / 64] & bit == 0 else { return false }
            words[i / 64] |= bit
            return true
        }

        fileprivate func isSet(_ i: Int) -> Bool {
            words[i / 64] & (UInt64(1) << UInt64(i % 64)) != 0
        }
    }

    public func makeMarks() -> BlobMarks {
        precondition(sortedCount == records.count, "marks need a consolidated index")
        return BlobMarks(count: records.count)
    }

    /// Marks `id`. - Returns: whether it was not marked before; false too for a blob the index lacks.
    @discardableResult
    public func mark(_ id: BlobID, in marks: BlobMarks) -> Bool {
        guard let i = position(of: id), i < sortedCount else { return false }
        return marks.set(i)
    }

    public func isMarked(_ id: BlobID, in marks: BlobMarks) -> Bool {
        guard let i = position(of: id), i < sortedCount else { return false }
        return marks.isSet(i)
    }

    // MARK: - The sorted table

    /// The index with every record sorted and every duplicate folded: itself, unless records
    /// were added since the last ``consolidate()`` (callers that load then use the index
    /// consolidate through ``preferPresentPacks(_:)``; this costs a copy only for others).
    private var settled: MasterIndex {
        if sortedCount == records.count { return self }
        var copy = self
        copy.consolidate()
        return copy
    }

    /// Sorts the records in place and folds the copies of one blob into one record plus
    /// `otherCopies`. A record repeated for one pack is dropped; two that disagree about
    /// where the blob lies in that pack are a conflict.
    mutating func consolidate() {
        guard sortedCount != records.count else { return }
        records.withUnsafeMutableBufferPointer { Self.sort($0) }
        var kept = 0
        var i = 0
        while i < records.count {
            let first = records[i]
            var end = i + 1
            while end < records.count && records[end].key == first.key { end += 1 }
            if end - i > 1 || otherCopies[first.key] != nil {
                var copies = otherCopies[first.key] ?? []
                for other in records[(i + 1)..<end] {
                    guard let samePack = ([first] + copies).first(where: { $0.pack == other.pack }) else {
                        copies.append(other)
                        continue
                    }
                    if samePack != other {
                        settledConflicts.append("blob \(first.key.hex)… is indexed at two different places in pack \(packs[Int(other.pack)].id.hex)")
                    }
                }
                otherCopies[first.key] = copies.isEmpty ? nil : copies
            }
            records[kept] = first
            kept += 1
            i = end
        }
        records.removeLast(records.count - kept)
        sortedCount = records.count
        rebuildDirectory()
        if let present = presentPacks { applyPreference(present) }
    }

    /// Enough leading bits that a bucket holds some dozens of records, at most 2^16 buckets.
    private static func directoryBits(for count: Int) -> Int {
        guard count >= 1024 else { return 0 }
        return min(16, Int.bitWidth - count.leadingZeroBitCount - 1 - 6)
    }

    private static func bucket(_ key: BlobKey, bits: Int) -> Int {
        bits == 0 ? 0 : Int(truncatingIfNeeded: key.w0 >> UInt64(64 - bits))
    }

    /// American flag sort a byte of the id at a time (in place: every record moves at most
    /// once a level), then each small bucket sorted on its own. A byte, not the directory's
    /// 16 bits: the permutation writes through one cursor a bucket, and 256 cursors' cache
    /// lines stay in L1 where 65,536 miss on every move (a 16-bit pass took half the time
    /// of opening a repository).
    private static func sort(_ records: UnsafeMutableBufferPointer<Record>, level: Int = 0) {
        var records = records
        guard records.count > 64, level < 8 else {
            records.sort(by: Record.precedes)
            return
        }
        let shift = UInt64(56 - 8 * level)
        @inline(__always) func byte(_ r: Record) -> Int { Int(truncatingIfNeeded: r.key.w0 >> shift) & 0xff }
        var starts = [Int](repeating: 0, count: 257)
        for r in records { starts[byte(r) + 1] += 1 }
        for b in 0..<256 { starts[b + 1] += starts[b] }
        var next = starts
        for b in 0..<256 {
            while next[b] < starts[b + 1] {
                let target = byte(records[next[b]])
                if target == b {
                    next[b] += 1
                } else {
                    records.swapAt(next[b], next[target])
                    next[target] += 1
                }
            }
        }
        for b in 0..<256 where starts[b + 1] - starts[b] > 1 {
            sort(UnsafeMutableBufferPointer(rebasing: records[starts[b]..<starts[b + 1]]), level: level + 1)
        }
    }

    private mutating func rebuildDirectory() {
        let bits = Self.directoryBits(for: records.count)
        var starts = [UInt32](repeating: 0, count: (1 << bits) + 1)
        for r in records { starts[Self.bucket(r.key, bits: bits) + 1] += 1 }
        for b in 0..<(1 << bits) { starts[b + 1] += starts[b] }
        directory = starts
        directoryBits = bits
    }

    /// Where a blob's record is: a binary search within its bucket of the sorted records,
    /// then a scan of those added since.
    private func position(of id: BlobID) -> Int? { position(of: BlobKey(id)) }

    private func position(of key: BlobKey) -> Int? {
        let b = Self.bucket(key, bits: directoryBits)
        var low = Int(directory[b])
        var high = Int(directory[b + 1])
        while low < high {
            let mid = (low + high) / 2
            if records[mid].key < key { low = mid + 1 } else { high = mid }
        }
        if low < Int(directory[b + 1]) && records[low].key == key { return low }
        for i in sortedCount..<records.count where records[i].key == key { return i }
        return nil
    }

}
