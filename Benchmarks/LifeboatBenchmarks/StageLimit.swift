import Crypto
import Foundation
import LifeboatCore

/// What the byte path's own work costs on a corpus: each stage of an initial backup run on
/// every byte of it, one core, in memory, timed per stage and summed. Divided by the
/// cores, that sum is the limit a backup cannot beat without doing less work; compare.py
/// prints it beside the measured backup, so the table shows the distance to the limit and
/// not only to restic (issue 16).
///
///     lifeboat-benchmarks limit DIR [--cores N]
///
/// Stages: FastCDC chunking (of every file; SQLite files are chunked by pages in a real
/// backup), the HMAC blob id, zstd level 3 with the same incompressibility test, AES-256-GCM
/// sealing, the pack's SHA-256, and the read-back (the pack's SHA-256, each blob opened and
/// its id computed again). A chunk met twice is deduplicated after its id, as in a backup.
/// Not counted: reading the files (the kernel's page cache copies), writing packs, the walk.
enum StageLimit {
    static func run(_ arguments: [String]) async throws {
        guard let root = arguments.first else { throw Usage("usage: lifeboat-benchmarks limit DIR [--cores N]") }
        let cores = SyntheticRepository.value(of: "--cores", in: arguments).flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount
        let master = MasterKey.generate()
        let chunker = FastCDCChunker(secret: master.derivedSecret(for: "chunker"))
        let zstd = Zstd(level: 3)
        let key = SymmetricKey(size: .bits256)
        var seconds: [String: Double] = [:]
        let clock = ContinuousClock()
        func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
            let start = clock.now
            let result = try body()
            seconds[stage, default: 0] += (clock.now - start).seconds
            return result
        }
        var seen = Set<BlobID>()
        var bytes = 0
        var sealedBytes = 0
        var packHash = SHA256()
        var readBackHash = SHA256()
        var compressed: [UInt8] = []
        var sealed: [UInt8] = []
        for path in try regularFiles(under: root) {
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped))
            bytes += data.count
            try data.withUnsafeBytes { file in
                var start = 0
                while start < file.count {
                    let window = UnsafeRawBufferPointer(rebasing: file[start..<min(file.count, start + chunker.maxChunkBytes)])
                    let n = timed("chunk") { chunker.nextChunkLength(in: window, isEndOfStream: start + window.count == file.count) }
                    let chunk = UnsafeRawBufferPointer(rebasing: file[start..<(start + n)])
                    start += n
                    let id = timed("blob id (HMAC)") { master.blobID(of: chunk) }
                    guard seen.insert(id).inserted else { continue }
                    compressed.removeAll(keepingCapacity: true)
                    let isCompressed = timed("zstd -3") { zstd.compress(chunk, appendingTo: &compressed) }
                    sealed.removeAll(keepingCapacity: true)
                    try id.digest.bytes.withUnsafeBytes { ad in
                        timed("AES-256-GCM seal") {
                            if isCompressed {
                                compressed.withUnsafeBytes { Sealing.seal($0, key: key, additionalData: ad, appendingTo: &sealed) }
                            } else {
                                Sealing.seal(chunk, key: key, additionalData: ad, appendingTo: &sealed)
                            }
                        }
                        sealedBytes += sealed.count
                        timed("pack SHA-256") { sealed.withUnsafeBytes { packHash.update(bufferPointer: $0) } }
                        // The read-back: the pack hashed again, the blob opened, its id computed again.
                        try timed("read-back") {
                            sealed.withUnsafeBytes { readBackHash.update(bufferPointer: $0) }
                            let opened = try sealed.withUnsafeBytes { try Sealing.open($0, key: key, additionalData: ad, what: "blob") }
                            let plain = isCompressed ? try opened.withUnsafeBytes { try zstd.decompress($0, plainBytes: n) } : [UInt8](opened)
                            _ = plain.withUnsafeBytes { master.blobID(of: $0) }
                        }
                    }
                }
            }
        }
        _ = packHash.finalize()
        _ = readBackHash.finalize()
        let total = seconds.values.reduce(0, +)
        let stages = seconds.sorted { $0.value > $1.value }.map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: ", ")
        print(String(format: "stages over %.0f MiB (%.0f MiB sealed, %d unique chunks), CPU-s: %@", Double(bytes) / 1_048_576, Double(sealedBytes) / 1_048_576, seen.count, stages))
        print(String(format: "limit: %.2f CPU-s, %.2f s on %d cores", total, total / Double(cores), cores))
    }

    private static func regularFiles(under root: String) throws -> [String] {
        var out: [String] = []
        guard let walk = FileManager.default.enumerator(atPath: root) else { throw Usage("cannot list \(root)") }
        for case let relative as String in walk {
            let path = root + "/" + relative
            var st = stat()
            if lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG { out.append(path) }
        }
        return out.sorted()
    }
}
