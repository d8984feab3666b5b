import Testing

@testable import LifeboatCore

@Suite("zstd")
struct ZstdTests {
    let zstd = Zstd()

    @Test("compressible data round-trips and shrinks")
    func roundTrip() throws {
        let text = Array(String(repeating: "lifeboat keeps copies. ", count: 5000).utf8)
        var out: [UInt8] = []
        let compressed = text.withUnsafeBytes { zstd.compress($0, appendingTo: &out) }
        #expect(compressed)
        #expect(out.count < text.count / 10)
        let back = try out.withUnsafeBytes { try zstd.decompress($0, plainBytes: text.count) }
        #expect(back == text)
    }

    @Test("random data is stored as is")
    func incompressible() {
        var rng = SeededBytesLocal(seed: 7)
        let random = rng.bytes(1 << 20)
        var out: [UInt8] = []
        #expect(!random.withUnsafeBytes { zstd.compress($0, appendingTo: &out) })
        #expect(out.isEmpty)
    }

    @Test("a chunk that starts random and goes on as text is compressed: the sample looks beyond its first bytes")
    func mixedChunk() throws {
        var rng = SeededBytesLocal(seed: 11)
        let text = Array(String(repeating: "orders 1234 shipped to customer 42; ", count: 20_000).utf8)
        let mixed = rng.bytes(300_000) + text.prefix(700_000)
        var out: [UInt8] = []
        #expect(mixed.withUnsafeBytes { zstd.compress($0, appendingTo: &out) })
        #expect(out.count < 400_000, "\(out.count) bytes")
        #expect(try out.withUnsafeBytes { try zstd.decompress($0, plainBytes: mixed.count) } == mixed)
    }

    @Test("a corrupt frame is an error, not wrong bytes")
    func corrupt() {
        let text = Array(String(repeating: "abc", count: 1000).utf8)
        var out: [UInt8] = []
        _ = text.withUnsafeBytes { zstd.compress($0, appendingTo: &out) }
        out[out.count / 2] ^= 0xff
        out[4] ^= 0xff
        #expect(throws: CompressionError.self) {
            let back = try out.withUnsafeBytes { try zstd.decompress($0, plainBytes: text.count) }
            if back != text { throw CompressionError.corrupt("mismatch") }
        }
    }

    /// A frame header declaring `contentBytes`, then one empty raw block: 16 bytes.
    static func frame(declaring contentBytes: UInt64) -> [UInt8] {
        var f: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xE0]  // magic, single segment, 8-byte content size
        withUnsafeBytes(of: contentBytes.littleEndian) { f.append(contentsOf: $0) }
        f.append(contentsOf: [0x01, 0x00, 0x00])  // last block, raw, empty
        return f
    }

    @Test("a frame declaring more than its length can expand to is refused before allocating")
    func refusesImpossibleExpansion() throws {
        let lie = Self.frame(declaring: 1 << 40)
        #expect(throws: CompressionError.self) { try lie.withUnsafeBytes { try zstd.decompress($0, maxPlainBytes: .max) } }
    }

    @Test("a frame declaring more than the caller's limit is refused; one within it decompresses")
    func honoursTheCallersLimit() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let frame = try #require(zeros.withUnsafeBytes { zstd.compressed($0, prefixBytes: 0) })
        #expect(try frame.withUnsafeBytes { try zstd.decompress($0, maxPlainBytes: 1 << 20) } == zeros)
        #expect(throws: CompressionError.self) { try frame.withUnsafeBytes { try zstd.decompress($0, maxPlainBytes: (1 << 20) - 1) } }
    }
}

/// Local so that this file needs no support target.
struct SeededBytesLocal {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func bytes(_ n: Int) -> [UInt8] {
        (0..<n).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
    }

}
