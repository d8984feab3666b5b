import Crypto
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("Chunkers")
struct ChunkerTests {
    /// Small parameters keep the debug-build loop quick; the algorithm is the same.
    func chunker(_ secret: SymmetricKey) -> FastCDCChunker {
        FastCDCChunker(secret: secret, minChunkBytes: 2048, averageChunkBytes: 8192, maxChunkBytes: 65536)
    }

    func cut(_ data: [UInt8], with c: some Chunker) -> [Int] {
        var lengths: [Int] = []
        var start = 0
        data.withUnsafeBytes { p in
            while start < data.count {
                let window = UnsafeRawBufferPointer(rebasing: p[start..<min(data.count, start + c.maxChunkBytes)])
                let n = c.nextChunkLength(in: window, isEndOfStream: start + window.count == data.count)
                lengths.append(n)
                start += n
            }
        }
        return lengths
    }

    @Test("chunks stay within min and max and cover the input (seed 11)")
    func bounds() {
        var rng = SeededBytes(seed: 11)
        let data = rng.bytes(1 << 20)
        let lengths = cut(data, with: chunker(SymmetricKey(size: .bits256)))
        #expect(lengths.reduce(0, +) == data.count)
        for n in lengths.dropLast() { #expect(n >= 2048 && n <= 65536) }
        let average = data.count / lengths.count
        #expect(average > 4096 && average < 20000, "average \(average)")
    }

    @Test("boundaries depend on the secret (seed 12)")
    func keyed() {
        var rng = SeededBytes(seed: 12)
        let data = rng.bytes(1 << 19)
        #expect(cut(data, with: chunker(SymmetricKey(size: .bits256))) != cut(data, with: chunker(SymmetricKey(size: .bits256))))
    }

    @Test("an insertion changes only the chunks around it (seed 13)")
    func shiftResistance() {
        var rng = SeededBytes(seed: 13)
        let data = rng.bytes(1 << 20)
        var edited = data
        edited.insert(contentsOf: rng.bytes(100), at: data.count / 2)
        let c = chunker(SymmetricKey(size: .bits256))
        func pieces(_ d: [UInt8]) -> Set<[UInt8]> {
            var out = Set<[UInt8]>()
            var start = 0
            for n in cut(d, with: c) {
                out.insert(Array(d[start..<start + n]))
                start += n
            }
            return out
        }
        let before = pieces(data)
        let after = pieces(edited)
        #expect(after.subtracting(before).count <= 3)
    }

    @Test("SQLite files are recognised and cut on their page size")
    func sqlitePages() {
        var header = Array("SQLite format 3\0".utf8) + [0x10, 0x00] + [UInt8](repeating: 0, count: 82)
        #expect(header.withUnsafeBytes { PageAlignedChunker.databasePageBytes(header: $0) } == 4096)
        header[16] = 0x00
        header[17] = 0x01
        #expect(header.withUnsafeBytes { PageAlignedChunker.databasePageBytes(header: $0) } == 65536)
        let other = [UInt8](repeating: 0x41, count: 100)
        #expect(other.withUnsafeBytes { PageAlignedChunker.databasePageBytes(header: $0) } == nil)
        #expect(cut([UInt8](repeating: 1, count: 10000), with: PageAlignedChunker(pageBytes: 4096)) == [4096, 4096, 1808])
    }
}
