import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("FileReader")
struct FileReaderTests {
    /// A file's blobs are those of its chunks as the chunker cuts the whole file at once,
    /// however the reader's window slides over it: for a file chunked on one task, one whose
    /// chunks are saved in parallel, and one of zeros (no cut before the largest chunk).
    @Test("a file's blobs are the chunker's cuts of the whole file, whatever the window", arguments: [
        (name: "serial", bytes: 10 << 20, zeros: false), (name: "parallel", bytes: 33 << 20, zeros: false),
        (name: "largest chunks", bytes: 17 << 20, zeros: true),
    ])
    func cutsMatchWholeFile(name: String, bytes: Int, zeros: Bool) async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        var random = SeededBytes(seed: 77)
        // Text-like runs between random ones, so that cuts fall at every distance.
        var data: [UInt8] = []
        if zeros {
            data = [UInt8](repeating: 0, count: bytes)
        } else {
            while data.count < bytes { data += random.bytes(300_000) + Array(String(repeating: "row \(data.count);", count: 20_000).utf8) }
            data.removeLast(data.count - bytes)
        }
        let path = scratch.path + "/file"
        try FileTree.write(path, data)

        let chunker = repo.makeChunker()
        var expected: [BlobID] = []
        data.withUnsafeBytes { all in
            var start = 0
            while start < all.count {
                let window = UnsafeRawBufferPointer(rebasing: all[start...])
                let n = chunker.nextChunkLength(in: window, isEndOfStream: true)
                expected.append(repo.masterKey.blobID(of: UnsafeRawBufferPointer(rebasing: window[0..<n])))
                start += n
            }
        }

        let writer = try await BlobWriter(repository: repo, index: MasterIndex())
        let reader = FileReader(writer: writer, fileChunker: chunker, workers: 1)
        let raw = RawPath(path)
        let outcome = try await BlockingIOQueue.withExecutor {
            try await reader.read(.ownFile(raw), expected: try FileStatus.lstat(raw))
        }
        #expect(outcome.bytesRead == Int64(bytes))
        #expect(outcome.content == expected, "\(name): \(outcome.content.count) blobs against \(expected.count)")
        if zeros { #expect(expected.count >= 2, "zeros are cut only at the largest chunk size") }
    }
}
