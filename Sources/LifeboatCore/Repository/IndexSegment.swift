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
