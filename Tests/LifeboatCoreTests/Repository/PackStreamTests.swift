import Foundation
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatCore

@Suite("PackStream")
struct PackStreamTests {
    /// A disk whose first write waits until the producer is held back, or has queued every
    /// block (which only a producer that is never held back can do while the disk is stuck).
    /// It records what it was given and how far the producer ran ahead of it.
    final class StuckDisk: StagedObject {
        struct State {
            var bytes: [UInt8] = []
            var enqueued = 0
            var written = 0
            var mostAhead = 0
            var firstWriteEntered = false
            var producerHeldBack = false
            var producerDone = false
        }
        let state = Mutex(State())
        let producerSide: EventWait
        let diskSide: EventWait

        init() throws {
            producerSide = try EventWait()
            diskSide = try EventWait()
        }

        func write(_ block: UnsafeRawBufferPointer, at offset: Int) throws {
            let first = state.withLock { s in
                defer { s.firstWriteEntered = true }
                return !s.firstWriteEntered
            }
            if first {
                producerSide.wake()
                try diskSide.until("the producer to be held back or done", limit: .seconds(60)) {
                    state.withLock { $0.producerHeldBack || $0.producerDone }
                }
            }
            state.withLock { s in
                #expect(offset == s.bytes.count, "blocks in order")
                s.bytes.append(contentsOf: block)
                s.written += 1
            }
        }

        func commit(as name: ObjectName) async throws {}

        func queued() {
            state.withLock { s in
                s.enqueued += 1
                s.mostAhead = max(s.mostAhead, s.enqueued - s.written)
            }
        }

        func mark(_ change: (inout State) -> Void) {
            state.withLock { change(&$0) }
            diskSide.wake()
        }
    }

    @Test("a worker that outruns a stuck disk, while another writes, is held to a few queued blocks; every byte is written in order and the id is their SHA-256")
    func backPressure() async throws {
        let disk = try StuckDisk()
        let pool = RawBufferPool(byteCount: PackStream.blockBytes, keep: 2)
        let stream = PackStream(staged: disk, blocks: pool, onHeldBack: { disk.mark { $0.producerHeldBack = true } })
        var random = SeededBytes(seed: 5)
        var expected: [UInt8] = []
        func enqueue(_ count: Int) {
            let bytes = random.bytes(count)
            expected += bytes
            let buffer = pool.take()
            bytes.withUnsafeBytes { buffer.pointer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            disk.queued()
            stream.enqueue(buffer, count: bytes.count)
        }
        // One worker takes the writer's turn with the first block, and the disk holds it there
        // until the other worker is held back (or, were it never, has queued everything).
        enqueue(PackStream.blockBytes)
        async let writer: Void = stream.pump()
        try await OffPool.run { try disk.producerSide.until("the writer to start", limit: .seconds(60)) { disk.state.withLock { $0.firstWriteEntered } } }
        let blocks = 24
        for i in 1..<blocks {
            enqueue(i == blocks - 1 ? 1234 : PackStream.blockBytes)
            await stream.pump()
        }
        disk.mark { $0.producerDone = true }
        await writer
        let id = try await stream.finish()
        let seen = disk.state.withLock { $0 }
        #expect(seen.bytes == expected, "the disk holds other bytes than were queued")
        #expect(id == PackID(Digest256.sha256(expected)))
        #expect(stream.bytesQueued == expected.count)
        let (heldBack, mostAhead) = (seen.producerHeldBack, seen.mostAhead)
        #expect(heldBack, "the worker was never held back")
        // The queued blocks, the one being written and the one just queued.
        #expect(mostAhead <= PackStream.maxQueuedBlocks + 2, "the worker ran \(mostAhead) blocks ahead of the disk")
    }
}
