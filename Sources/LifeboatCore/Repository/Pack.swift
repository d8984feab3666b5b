@preconcurrency import Crypto
import Foundation

/// A pack file: `data/<xx>/<sha256 of the file>`.
///
/// Layout: the sealed blobs back to back, then the sealed header, then the 32-byte id of
/// the data key that sealed it all, then the header's sealed length as a little-endian
/// u32. The header lists each blob (type, flags, id, sealed and plain length) in file
/// order, followed by zero padding of random length, so that neither the number of
/// blobs nor their sizes can be read from outside. See docs/repository-format.md.
public enum Pack {
    public static let trailerBytes = 32 + 4
    package static let headerEntryBytes = 1 + 1 + 32 + 4 + 4
    package static let headerMagic = Array("LBPH".utf8)
    static let maxHeaderPaddingBytes = 64 << 10

    static func headerAdditionalData(_ key: DataKeyID) -> [UInt8] {
        var ad = Array("lifeboat/v1/pack-header".utf8)
        key.digest.append(to: &ad)
        return ad
    }

    /// One entry of a pack header.
    public struct Entry: Sendable, Hashable {
        public var type: BlobType
        public var id: BlobID
        public var offset: Int
        public var sealedBytes: Int
        public var plainBytes: Int
        public var isCompressed: Bool
    }

    /// What follows a pack's blobs: the sealed header listing `entries`, the data key's id
    /// and the header's sealed length. `blobBytes` is the blobs' total size.
    static func sealedHeaderAndTrailer(entries: [Entry], dataKey: DataKey, blobBytes: Int) -> [UInt8] {
        var header = ByteWriter()
        header.raw(headerMagic)
        header.u32(UInt32(entries.count))
        for e in entries {
            header.u8(e.type.rawValue)
            header.u8(e.isCompressed ? 1 : 0)
            header.digest(e.id.digest)
            header.u32(UInt32(e.sealedBytes))
            header.u32(UInt32(e.plainBytes))
        }
        // Padding up to 1/32 of the pack (at most 64 KiB): enough to blur the blob count
        // and the sum of blob sizes, without making the small last pack of a run costly.
        let paddingLimit = min(maxHeaderPaddingBytes, max(1024, blobBytes / 32))
        header.raw(repeatElement(0, count: Int.random(in: 0..<paddingLimit)))
        var out: [UInt8] = []
        out.reserveCapacity(header.bytes.count + Sealing.overheadBytes + trailerBytes)
        header.bytes.withUnsafeBytes { p in
            headerAdditionalData(dataKey.id).withUnsafeBytes { ad in
                Sealing.seal(p, key: dataKey.key, additionalData: ad, appendingTo: &out)
            }
        }
        let sealedHeaderBytes = out.count
        dataKey.id.digest.append(to: &out)
        withUnsafeBytes(of: UInt32(sealedHeaderBytes).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    /// Parses and authenticates the header of a whole pack file.
    public static func readHeader(of pack: [UInt8], keys: (DataKeyID) throws -> DataKey, name: ObjectName)
        throws -> (DataKeyID, [Entry])
    {
        try readHeader(tail: pack, packBytes: pack.count, keys: keys, name: name)
    }

    /// The header's sealed length, from a pack's last ``trailerBytes`` (or more) bytes.
    static func headerLength(tail: [UInt8], name: ObjectName) throws -> Int {
        guard tail.count >= trailerBytes else { throw RepositoryError.damaged(name, reason: "shorter than its trailer") }
        var trailer = ByteReader(Array(tail.suffix(4)), what: "pack trailer")
        return Int(try trailer.u32())
    }

    /// Parses and authenticates the header from the end of a pack: `tail` is the file's
    /// last bytes (at least the sealed header and the trailer), `packBytes` its size, so
    /// that a pack can be checked without holding it whole.
    static func readHeader(tail: [UInt8], packBytes: Int, keys: (DataKeyID) throws -> DataKey, name: ObjectName)
        throws -> (DataKeyID, [Entry])
    {
        guard tail.count >= trailerBytes, tail.count <= packBytes else { throw RepositoryError.damaged(name, reason: "shorter than its trailer") }
        var trailer = ByteReader(Array(tail.suffix(trailerBytes)), what: "pack trailer")
        do {
            let keyID = DataKeyID(try trailer.digest())
            let headerLength = Int(try trailer.u32())
            guard headerLength + trailerBytes <= tail.count, headerLength >= Sealing.overheadBytes else {
                throw RepositoryError.damaged(name, reason: "header length \(headerLength) does not fit")
            }
            let start = tail.count - trailerBytes - headerLength
            let key = try keys(keyID)
            let plain = try tail.withUnsafeBytes { (p) throws -> Data in
                try headerAdditionalData(keyID).withUnsafeBytes { (ad) throws -> Data in
                    try Sealing.open(UnsafeRawBufferPointer(rebasing: p[start..<(start + headerLength)]), key: key.key, additionalData: ad, what: "header of pack \(name.name.prefix(8))")
                }
            }
            let entries = try parseHeader(Array(plain), name: name)
            guard let last = entries.last else { return (keyID, []) }
            let headerStart = packBytes - trailerBytes - headerLength
            guard last.offset + last.sealedBytes <= headerStart else { throw RepositoryError.damaged(name, reason: "header lists blobs beyond its start") }
            return (keyID, entries)
        } catch let e as RepositoryError {
            throw e
        } catch let e as CryptoError {
            throw RepositoryError.damaged(name, reason: e.description)
        } catch {
            throw RepositoryError.damaged(name, reason: "\(error)")
        }
    }

    package static func parseHeader(_ plain: [UInt8], name: ObjectName) throws -> [Entry] {
        var r = ByteReader(plain, what: "header of pack \(name.name.prefix(8))")
        guard Array(try r.raw(4)) == headerMagic else { throw CryptoError.malformed(what: "pack header", reason: "bad magic") }
        let count = Int(try r.u32())
        guard count <= r.remaining / headerEntryBytes else { throw CryptoError.malformed(what: "pack header", reason: "count \(count) too large") }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var offset = 0
        for _ in 0..<count {
            guard let type = BlobType(rawValue: try r.u8()) else { throw CryptoError.malformed(what: "pack header", reason: "unknown blob type") }
            let flags = try r.u8()
            let id = BlobID(try r.digest())
            let sealed = Int(try r.u32())
            let plainBytes = Int(try r.u32())
            entries.append(Entry(type: type, id: id, offset: offset, sealedBytes: sealed, plainBytes: plainBytes, isCompressed: flags & 1 != 0))
            offset += sealed
        }
        return entries
    }
}

/// How full a pack may grow: the size at which it is finished, and when a blob starts
/// the next one instead.
struct PackTarget: Sendable {
    let targetBytes: Int

    init(nominalBytes: Int) {
        // A pack's size varies by up to 1/16 either side of the nominal size, so that pack
        // boundaries do not line up with any particular run of chunk sizes.
        targetBytes = nominalBytes - nominalBytes / 16 + Int.random(in: 0..<(nominalBytes / 8 + 1))
    }

    /// Room for the header beyond the target: its padding and 12,000 blobs.
    static let headerReserveBytes = Pack.maxHeaderPaddingBytes + (512 << 10)

    /// The most the sealed header and the trailer of a pack of `blobs` blobs take.
    static func headerBound(blobs: Int) -> Int {
        Pack.headerMagic.count + 4 + blobs * Pack.headerEntryBytes + Pack.maxHeaderPaddingBytes + Sealing.overheadBytes + Pack.trailerBytes
    }

    /// The most a finished pack takes.
    var maxPackBytes: Int { targetBytes + Self.headerReserveBytes }

    func isFull(blobBytes: Int) -> Bool { blobBytes >= targetBytes }

    /// Whether a sealed blob of `count` bytes would take a pack of `blobs` blobs and
    /// `blobBytes` bytes past its target, or its header past the room kept for it: the
    /// pack is then finished first, and the blob starts the next one. A pack holds at
    /// least one blob, whatever its size.
    func wouldOverflow(blobs: Int, blobBytes: Int, adding count: Int) -> Bool {
        guard blobs > 0 else { return false }
        return blobBytes + count > targetBytes || blobBytes + count + Self.headerBound(blobs: blobs + 1) > maxPackBytes
    }
}

/// Collects sealed blobs into one pack in memory and finishes it into the file's bytes
/// (prune's repacking; a backup streams its packs, ``OpenPack``).
struct PackBuilder {
    let dataKey: DataKey
    let target: PackTarget
    private(set) var bytes: [UInt8]
    private(set) var entries: [Pack.Entry] = []

    init(dataKey: DataKey, nominalTargetBytes: Int) {
        self.dataKey = dataKey
        target = PackTarget(nominalBytes: nominalTargetBytes)
        // Room for the blobs and the sealed header, so that neither outgrows the buffer: an
        // array that grows doubles, and a 16 MiB pack then holds 32 MiB until it is freed.
        bytes = []
        bytes.reserveCapacity(target.maxPackBytes)
    }

    var isFull: Bool { target.isFull(blobBytes: bytes.count) }
    var isEmpty: Bool { entries.isEmpty }

    func wouldOverflow(adding count: Int) -> Bool {
        target.wouldOverflow(blobs: entries.count, blobBytes: bytes.count, adding: count)
    }

    @discardableResult
    mutating func append(sealedBlob: [UInt8], type: BlobType, id: BlobID, plainBytes: Int, isCompressed: Bool) -> Pack.Entry {
        let entry = Pack.Entry(
            type: type, id: id, offset: bytes.count, sealedBytes: sealedBlob.count, plainBytes: plainBytes, isCompressed: isCompressed)
        entries.append(entry)
        bytes.append(contentsOf: sealedBlob)
        return entry
    }

    /// Appends the sealed header and trailer; returns the finished file and its id.
    consuming func finish() -> (bytes: [UInt8], id: PackID, entries: [Pack.Entry]) {
        bytes.append(contentsOf: Pack.sealedHeaderAndTrailer(entries: entries, dataKey: dataKey, blobBytes: bytes.count))
        let id = PackID(Digest256.sha256(bytes))
        // Hand the buffer over without a copy: the builder is done with it.
        let finished = bytes
        bytes = []
        return (finished, id, entries)
    }
}
