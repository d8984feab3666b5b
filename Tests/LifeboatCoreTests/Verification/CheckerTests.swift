import Foundation
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatCore

/// Notes the longest single read through it: how much of an object a reader held at once.
final class ReadMeasuringBackend: StorageBackend {
    let inner: any StorageBackend
    private let longest = Mutex(0)
    var longestRead: Int { longest.withLock { $0 } }

    init(_ inner: any StorageBackend) { self.inner = inner }

    var locationDescription: String { inner.locationDescription }
    func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws { try await inner.write(name, bytes: bytes, overwrite: overwrite) }
    func read(_ name: ObjectName) async throws -> [UInt8] {
        let bytes = try await inner.read(name)
        longest.withLock { $0 = max($0, bytes.count) }
        return bytes
    }
    func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        longest.withLock { $0 = max($0, length) }
        return try await inner.read(name, offset: offset, length: length)
    }
    func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }
    func delete(_ name: ObjectName) async throws { try await inner.delete(name) }
}

@Suite("Checker and ObjectVerifier")
struct CheckerTests {
    func backedUp(_ scratch: ScratchDirectory) async throws -> (Repository, String, BackupResult) {
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 31)
        try FileTree.write(source + "/a.bin", rng.bytes(2 << 20))
        try FileTree.write(source + "/b.txt", Array(String(repeating: "text ", count: 10000).utf8))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let result = try await TestRepository.backup(repo, [source])
        return (repo, source, result)
    }

    func packFiles(_ repoPath: String) -> [String] {
        TestRepository.allObjects(at: repoPath).keys.filter { $0.hasPrefix("data/") }.sorted()
    }

    func flipByte(_ path: String, at offset: Int) throws {
        var bytes = Array(FileManager.default.contents(atPath: path)!)
        bytes[offset] ^= 0x55
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test("check --read-data opens every archived WAL object and names a damaged one; a stray name in wal/ is an error")
    func archivedWal() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        var rng = SeededBytes(seed: 5)
        for n in 1...2 {
            let name = WalFileName(timeline: 1, segmentNumber: UInt64(n), segmentBytes: 1 << 20).name
            try FileTree.write(scratch.sub("pg_wal") + "/" + name, rng.bytes(1 << 16))
            _ = try await WalArchive(repository: repo).push(path: scratch.path + "/pg_wal/" + name, host: "h", username: "u")
        }
        let clean = try await Checker(repository: repo).check(readData: true)
        #expect(clean.isOK, "\(clean.errors)")
        #expect(clean.objectsChecked == 2)
        try flipByte(scratch.path + "/repo/wal/00000001/000000010000000000000002", at: 100)
        try FileTree.write(scratch.path + "/repo/wal/00000001/not-a-segment", [1, 2, 3])
        let damaged = try await Checker(repository: repo).check(readData: true)
        #expect(damaged.errors.contains { $0.contains("000000010000000000000002") }, "\(damaged.errors)")
        #expect(damaged.errors.contains { $0.contains("not-a-segment") }, "\(damaged.errors)")
        #expect(try await Checker(repository: repo).check(readData: false).errors.count == 1)
    }

    @Test("a healthy repository passes check and check --read-data")
    func healthy() async throws {
        let scratch = ScratchDirectory()
        let (repo, _, _) = try await backedUp(scratch)
        let structure = try await Checker(repository: repo).check(readData: false)
        #expect(structure.isOK, "\(structure.errors)")
        let data = try await Checker(repository: repo).check(readData: true)
        #expect(data.isOK, "\(data.errors)")
        #expect(data.packsChecked == packFiles(scratch.path + "/repo").count)
        #expect(data.blobsChecked > 3)
    }

    @Test("a damaged pack is named by check --read-data and by verify --no-key; restore skips its files and restores the rest")
    func damagedPack() async throws {
        let scratch = ScratchDirectory()
        let (repo, source, backup) = try await backedUp(scratch)
        let index = try await repo.loadIndex()
        var bigFileContent: [BlobID] = []
        try await TreeWalker(repository: repo, index: index).walk(backup.snapshot.tree) { path, node in
            if path.hasSuffix("/a.bin") { bigFileContent = node.content }
        }
        let damagedPack = try #require(index.location(of: bigFileContent[0])).pack
        let packPath = scratch.path + "/repo/" + ObjectName(.data, damagedPack).path
        try flipByte(packPath, at: 100)

        let report = try await Checker(repository: repo).check(readData: true)
        #expect(!report.isOK)
        #expect(report.errors.contains { $0.contains(damagedPack.hex) })
        let structureOnly = try await Checker(repository: repo).check(readData: false)
        #expect(structureOnly.isOK, "structure is intact; only data is damaged")

        let noKey = try await ObjectVerifier(backend: try LocalDirectoryBackend(path: scratch.path + "/repo")).verify()
        #expect(noKey.errors.contains { $0.contains(damagedPack.hex) })

        let target = scratch.path + "/restore"
        let result = try await Restorer(repository: repo).restore(backup.snapshot, options: RestoreOptions(target: target))
        #expect(result.damagedFiles.contains { $0.hasSuffix("a.bin") || $0.contains("/a.bin:") })
        #expect(!FileManager.default.fileExists(atPath: target + source + "/a.bin"), "no file with wrong bytes is left")
        // b.txt's blob is intact unless it sits right where the byte was flipped; either
        // way nothing restored may differ from the source.
        if let b = FileManager.default.contents(atPath: target + source + "/b.txt") {
            #expect(b == FileManager.default.contents(atPath: source + "/b.txt"))
        } else {
            #expect(result.damagedFiles.contains { $0.contains("b.txt") })
        }
    }

    @Test("check --read-data reads a pack a window at a time, never whole, and still finds damage in its last blob")
    func boundedPackReads() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 32)
        // 48 files of 256 KiB: each under the chunker's minimum, so one blob each, and all in
        // one pack of 12 MiB, many windows long. (One 12 MiB file was cut where the
        // repository's random chunker key said: now and then into a blob of over 3 MiB,
        // and then the pack was not four blobs long.)
        for i in 0..<48 { try FileTree.write(source + "/part-\(i).bin", rng.bytes(256 << 10)) }
        let root = scratch.path + "/repo"
        _ = try await TestRepository.backup(try await TestRepository.create(at: root), [source])
        let measuring = ReadMeasuringBackend(try LocalDirectoryBackend(path: root))
        let repo = try await Repository.open(backend: measuring, passphrase: TestRepository.passphrase)
        var checker = Checker(repository: repo)
        checker.packWindowBytes = 256 << 10
        let largest = try #require(try await repo.backend.list(.data).max { $0.sizeBytes < $1.sizeBytes })
        let (_, entries) = try Pack.readHeader(of: try await LocalDirectoryBackend(path: root).read(largest.name), keys: { try repo.dataKey($0) }, name: largest.name)
        let largestBlob = try #require(entries.map(\.sealedBytes).max())
        #expect(largest.sizeBytes > 4 * max(checker.packWindowBytes, largestBlob), "the test needs a pack of several windows")
        let clean = try await checker.check(readData: true)
        #expect(clean.isOK, "\(clean.errors)")
        #expect(clean.bytesRead >= Int64(largest.sizeBytes))
        // A window, or one blob when it is larger.
        #expect(measuring.longestRead <= max(checker.packWindowBytes, largestBlob), "a read of \(measuring.longestRead) bytes of a \(largest.sizeBytes)-byte pack")

        // The last blob byte before the header: only a check that reaches the end finds it.
        let lastBlob = try #require(entries.last)
        try flipByte(root + "/" + largest.name.path, at: lastBlob.offset + lastBlob.sealedBytes - 1)
        let damaged = try await checker.check(readData: true)
        #expect(damaged.errors.contains { $0.contains(largest.name.name) }, "\(damaged.errors)")
    }

    @Test("a missing pack is a structural error")
    func missingPack() async throws {
        let scratch = ScratchDirectory()
        let (repo, _, _) = try await backedUp(scratch)
        let pack = try #require(packFiles(scratch.path + "/repo").first)
        try FileManager.default.removeItem(atPath: scratch.path + "/repo/" + pack)
        let report = try await Checker(repository: repo).check(readData: false)
        #expect(report.errors.contains { $0.contains("missing") })
    }

    @Test("a damaged snapshot or index is named")
    func damagedMetadata() async throws {
        let scratch = ScratchDirectory()
        let (repo, _, backup) = try await backedUp(scratch)
        try flipByte(scratch.path + "/repo/snapshots/" + backup.snapshotID.hex, at: 40)
        let report = try await Checker(repository: repo).check(readData: false)
        #expect(report.errors.contains { $0.contains(backup.snapshotID.shortHex) })
        let noKey = try await ObjectVerifier(backend: repo.backend).verify()
        #expect(noKey.errors.contains { $0.contains(backup.snapshotID.hex) })
    }

    @Test("a pack left without index by an interrupted backup is a warning, not an error")
    func unindexedPack() async throws {
        let scratch = ScratchDirectory()
        let (repo, _, _) = try await backedUp(scratch)
        let key = try await repo.createDataKey(now: Date())
        var builder = PackBuilder(dataKey: key, nominalTargetBytes: 1 << 20)
        _ = builder.append(sealedBlob: [1, 2, 3], type: .data, id: BlobID(Digest256.random()), plainBytes: 3, isCompressed: false)
        let (bytes, id, _) = builder.finish()
        try await repo.backend.write(ObjectName(.data, id), bytes: bytes)
        let report = try await Checker(repository: repo).check(readData: false)
        #expect(report.isOK)
        #expect(report.warnings.contains { $0.contains(id.hex) })
    }
}
