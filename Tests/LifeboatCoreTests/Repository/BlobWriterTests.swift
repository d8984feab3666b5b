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
}
