import Foundation
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
        let (keyID, parsed) = try Pack.readHeader(of: bytes, keys: { _ in key }, name: ObjectName(.data, packID.hex))
        #expect(keyID == key.id)
        #expect(parsed == entries)
        #expect(parsed.map(\.id) == ids)
        #expect(parsed[4].type == .tree && parsed[0].isCompressed && !parsed[1].isCompressed)
    }

    @Test("a damaged pack header is detected")
    func damagedHeader() {
        let key = DataKey.generate()
        var builder = PackBuilder(dataKey: key, nominalTargetBytes: 1 << 20)
        _ = builder.append(sealedBlob: [1, 2, 3], type: .data, id: BlobID(Digest256.random()), plainBytes: 3, isCompressed: false)
        var (bytes, packID, _) = builder.finish()
        bytes[bytes.count - 40] ^= 1
        #expect(throws: RepositoryError.self) { try Pack.readHeader(of: bytes, keys: { _ in key }, name: ObjectName(.data, packID.hex)) }
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

    @Test("an index segment declaring a pack size beyond Int is refused, not trapped on")
    func impossiblePackSize() throws {
        let record = IndexSegment.PackRecord(id: PackID(Digest256.random()), dataKey: DataKeyID(Digest256.random()), sizeBytes: 0, blobs: [])
        var bytes = IndexSegment(packs: [record]).encoded()
        // magic (4), version (1), pack count (4), pack id (32), data key id (32), then the size.
        bytes.replaceSubrange(73..<81, with: repeatElement(0xFF, count: 8))
        #expect(throws: CryptoError.self) { try IndexSegment.decode(bytes, what: "t") }
    }
}
