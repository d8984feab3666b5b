@preconcurrency import Crypto
import Synchronization

/// Writes one pack's blocks to its ``StagedObject`` in order, hashing them on the way, while
/// the blobs that fill the next blocks are still being compressed and sealed.
///
/// Blocks are queued under the backup's lock, in file order, by ``OpenPack``; whichever
/// worker finds the queue unattended after its blob writes all that is queued, on the
/// blocking pool, so one writer at a time keeps the order and the others go on sealing.
/// A worker that finds ``maxQueuedBlocks`` waiting for a busy writer waits for room: that
/// is the pipeline's back-pressure when the disk is slower than the sealing.
final class PackStream: Sendable {
    static let blockBytes = 1 << 20
    /// Enough to keep a disk busy while the next blob is sealed; each is 1 MiB of memory.
    static let maxQueuedBlocks = 4

    let staged: any StagedObject
    private let blocks: RawBufferPool

    struct Block: Sendable {
        var buffer: RawBufferPool.Buffer
        var count: Int
        var offset: Int
    }

    private struct Queue {
        var blocks: [Block] = []
        var head = 0
        var queuedBytes = 0
        var writing = false
        var failure: (any Error)?
        /// Tasks waiting for the queue to shrink or its writer to stop; each checks again.
        var waiters: [CheckedContinuation<Void, Never>] = []

        var waiting: Int { blocks.count - head }
    }
    private let queue = Mutex(Queue())
    /// Touched by the writer only (one at a time); a lock only to say so to the compiler.
    private let hasher = Mutex(SHA256())

    /// Told each time a worker starts to wait for room (tests follow the back-pressure by it).
    private let onHeldBack: (@Sendable () -> Void)?

    init(staged: any StagedObject, blocks: RawBufferPool, onHeldBack: (@Sendable () -> Void)? = nil) {
        self.staged = staged
        self.blocks = blocks
        self.onHeldBack = onHeldBack
    }

    deinit {
        queue.withLock { q in
            for b in q.blocks[q.head...] { blocks.give(b.buffer) }
        }
    }

    /// Queues `count` bytes of `buffer` as the pack's next block. Callers queue in file
    /// order (under their own lock); the buffer is the stream's from here on.
    func enqueue(_ buffer: RawBufferPool.Buffer, count: Int) {
        let dropped: RawBufferPool.Buffer? = queue.withLock { q in
            guard q.failure == nil else { return buffer }
            q.blocks.append(Block(buffer: buffer, count: count, offset: q.queuedBytes))
            q.queuedBytes += count
            return nil
        }
        if let dropped { blocks.give(dropped) }
    }

    private enum Turn {
        case write, wait, done
    }

    /// Writes what is queued when no one else is, or waits while a busy writer has a full
    /// queue. Errors stay in the stream for ``finish()`` to throw.
    func pump() async {
        while true {
            let turn: Turn = queue.withLock { q in
                if q.failure != nil { return .done }
                if !q.writing && q.waiting > 0 {
                    q.writing = true
                    return .write
                }
                return q.writing && q.waiting >= Self.maxQueuedBlocks ? .wait : .done
            }
            switch turn {
            case .write:
                _ = try? await BlockingIOQueue.run { self.writeQueued() }
                return
            case .wait:
                onHeldBack?()
                await changed { !$0.writing || $0.waiting < Self.maxQueuedBlocks }
            case .done:
                return
            }
        }
    }

    /// Writes every block queued (also those queued meanwhile), then hands the turn back.
    private func writeQueued() {
        while true {
            // Taking the next block and giving the turn back are one step under the lock, so
            // a block queued as the writer stops is never left without one.
            let (next, wake, dropped): (Block?, [CheckedContinuation<Void, Never>], [Block]) = queue.withLock { q in
                if q.failure == nil, q.waiting > 0 {
                    defer { q.head += 1 }
                    return (q.blocks[q.head], [], [])
                }
                q.writing = false
                // After a failure nothing more is written: the buffers go back now.
                let dropped = Array(q.blocks[q.head...])
                q.blocks = []
                q.head = 0
                defer { q.waiters = [] }
                return (nil, q.waiters, dropped)
            }
            guard let block = next else {
                for b in dropped { blocks.give(b.buffer) }
                for w in wake { w.resume() }
                return
            }
            do {
                let bytes = UnsafeRawBufferPointer(rebasing: block.buffer.pointer[0..<block.count])
                hasher.withLock { $0.update(bufferPointer: bytes) }
                try staged.write(bytes, at: block.offset)
            } catch {
                queue.withLock { q in if q.failure == nil { q.failure = error } }
            }
            blocks.give(block.buffer)
            let room: [CheckedContinuation<Void, Never>] = queue.withLock { q in
                if q.head >= 64 {
                    q.blocks.removeFirst(q.head)
                    q.head = 0
                }
                guard q.waiting < Self.maxQueuedBlocks else { return [] }
                defer { q.waiters = [] }
                return q.waiters
            }
            for w in room { w.resume() }
        }
    }

    /// Suspends until `ready` holds (checked again after each block written).
    private func changed(until ready: @escaping (borrowing Queue) -> Bool) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = queue.withLock { q in
                if ready(q) { return true }
                q.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Once every block is queued: writes what is left (or waits for the writer to), and
    /// returns the pack's id, the SHA-256 of all its bytes.
    /// - Throws: the first error writing met.
    func finish() async throws -> PackID {
        while true {
            await pump()
            let (failure, done) = queue.withLock { q in (q.failure, !q.writing && q.waiting == 0) }
            if let failure { throw failure }
            if done { break }
            await changed { !$0.writing }
        }
        return PackID(Digest256(hasher.withLock { $0.finalize() }))
    }

    var bytesQueued: Int { queue.withLock { $0.queuedBytes } }
}
