import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("BlobWriter")
struct BlobWriterTests {
    @Test("a tree pack started after an upload keeps the tree packs' 1 MiB target")
    func treePackTargetAfterUpload() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let writer = try await BlobWriter(repository: repo, index: MasterIndex())
        // 40 incompressible tree blobs of 64 KiB (2.5 MiB, seed 10): the first tree pack is
        // full near 1 MiB, the one after it near 2 MiB; a 16 MiB target would hold the rest.
        var random = SeededBytes(seed: 10)
        for _ in 0..<40 { try await writer.save(random.bytes(64 << 10), type: .tree) }
        let uploaded = writer.writtenObjects.filter { $0.name.kind == .data }
        #expect(uploaded.count >= 2, "seed 10: \(uploaded.count) tree packs uploaded before the flush")
        #expect(uploaded.allSatisfy { $0.sizeBytes < BlobWriter.treePackTargetBytes + (1 << 20) })
    }

    @Test("blobs saved by four tasks at once, across many pack blocks, are each where the index says; the packs check clean and no temporary is left")
    func concurrentSaves() async throws {
        let scratch = ScratchDirectory()
        let root = scratch.path + "/repo"
        let repo = try await TestRepository.create(at: root)
        let writer = try await BlobWriter(repository: repo, index: MasterIndex())
        // About 50 MiB in blobs of 1 KiB to 2.5 MiB: three data packs of 16 MiB, each written
        // in 1 MiB blocks that two or more tasks' blobs share.
        let saved = try await withThrowingTaskGroup(of: [(BlobID, Digest256)].self) { group in
            for task in 0..<4 {
                group.addTask {
                    var random = SeededBytes(seed: UInt64(100 + task))
                    var out: [(BlobID, Digest256)] = []
                    for i in 0..<10 {
                        let size = 1024 + Int(random.bytes(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } % (5 << 19))
                        let plain = random.bytes(size)
                        let (id, _) = try await writer.save(plain, type: i % 5 == 4 ? .tree : .data)
                        out.append((id, Digest256.sha256(plain)))
                    }
                    return out
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        try await writer.flush()
        let index = try await repo.loadIndex()
        for (id, digest) in saved {
            let location = try #require(index.location(of: id))
            #expect(Digest256.sha256(try await repo.loadBlob(location)) == digest)
        }
        let report = try await Checker(repository: repo).readBack(writer.writtenObjects)
        #expect(report.isOK, "\(report.errors)")
        let left = try FileManager.default.subpathsOfDirectory(atPath: root + "/data").filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "temporaries left: \(left)")
    }
}
