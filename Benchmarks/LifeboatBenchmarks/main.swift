import Crypto
import Foundation
import LifeboatCore

// Throughput of each per-byte stage of the backup pipeline, on one core, in memory:
// the numbers a change to a byte path must state before and after (STYLE §4).
// Run in release mode: `swift run -c release lifeboat-benchmarks [MiB]`.
// `synthetic-repository` and `open-index` serve the scale benchmark (Benchmarks/scale.py);
// `limit DIR` sums the stages' costs over a corpus for compare.py's limit line.

MemoryTuning.apply()  // as `lifeboat` does: memory figures must be the program's
let tools: [String: ([String]) async throws -> Void] = ["synthetic-repository": SyntheticRepository.run, "open-index": OpenIndex.run, "limit": StageLimit.run]
if let name = CommandLine.arguments.dropFirst().first, let tool = tools[name] {
    do {
        try await tool(Array(CommandLine.arguments.dropFirst(2)))
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("lifeboat-benchmarks \(name): \(error)\n".utf8))
        exit(1)
    }
}

let mebibytes = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 256
let size = mebibytes << 20
var state: UInt64 = 1
var random = [UInt8](repeating: 0, count: size)
random.withUnsafeMutableBytes { p in
    for i in stride(from: 0, to: size, by: 8) {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        p.storeBytes(of: z ^ (z >> 31), toByteOffset: i, as: UInt64.self)
    }
}
let words = (0..<4096).map { "w\($0 * 7919 % 10007)" }
var text = [UInt8]()
text.reserveCapacity(size)
var k = 0
while text.count < size {
    text.append(contentsOf: words[(k * 31 + k / 7) % words.count].utf8)
    text.append(k % 13 == 0 ? 10 : 32)
    k += 1
}
text.removeLast(text.count - size)

func measure(_ name: String, bytes: Int, _ body: () -> Void) {
    let clock = ContinuousClock()
    let elapsed = clock.measure(body)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let rate = Double(bytes) / seconds / Double(1 << 20)
    print("\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", rate)) MiB/s")
}

let master = MasterKey.generate()
let chunker = FastCDCChunker(secret: master.derivedSecret(for: "chunker"))
var chunks: [Range<Int>] = []
measure("FastCDC (gear hash) random", bytes: size) {
    random.withUnsafeBytes { p in
        var start = 0
        while start < size {
            let window = UnsafeRawBufferPointer(rebasing: p[start..<min(size, start + chunker.maxChunkBytes)])
            let n = chunker.nextChunkLength(in: window, isEndOfStream: start + window.count == size)
            chunks.append(start..<(start + n))
            start += n
        }
    }
}
print("  \(chunks.count) chunks, average \((size / max(1, chunks.count)) >> 10) KiB")
measure("HMAC-SHA256 blob ids", bytes: size) {
    random.withUnsafeBytes { p in for r in chunks { _ = master.blobID(of: UnsafeRawBufferPointer(rebasing: p[r])) } }
}
measure("SHA-256 (pack names)", bytes: size) { _ = Digest256.sha256(random) }
let key = SymmetricKey(size: .bits256)
measure("AES-256-GCM seal", bytes: size) {
    random.withUnsafeBytes { p in
        for r in chunks {
            var out: [UInt8] = []
            out.reserveCapacity(r.count + 28)
            Sealing.seal(UnsafeRawBufferPointer(rebasing: p[r]), key: key, additionalData: UnsafeRawBufferPointer(rebasing: p[0..<32]), appendingTo: &out)
        }
    }
}
let zstd = Zstd(level: 3)
var compressedBytes = 0
measure("zstd -3 text", bytes: size) {
    text.withUnsafeBytes { p in
        for start in stride(from: 0, to: size, by: 1 << 20) {
            var out: [UInt8] = []
            _ = zstd.compress(UnsafeRawBufferPointer(rebasing: p[start..<min(size, start + (1 << 20))]), appendingTo: &out)
            compressedBytes += out.count
        }
    }
}
print("  text ratio \(String(format: "%.2f", Double(size) / Double(max(1, compressedBytes))))")
measure("zstd -3 random (skipped by sample)", bytes: size) {
    random.withUnsafeBytes { p in
        for r in chunks {
            var out: [UInt8] = []
            _ = zstd.compress(UnsafeRawBufferPointer(rebasing: p[r]), appendingTo: &out)
        }
    }
}
