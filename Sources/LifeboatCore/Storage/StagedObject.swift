import Synchronization

/// An object written a block at a time under a temporary name, then named once complete.
///
/// A pack's name is the SHA-256 of its bytes, known only at its end: staging lets a
/// backup write the pack as it fills instead of holding all of it (16 MiB and more per
/// pack in flight) until then. A backend that can stage (``LocalDirectoryBackend``)
/// returns its own from ``StorageBackend/makeStagedObject(_:expectedBytes:)``; for the
/// others, ``MemoryStagedObject`` gathers the blocks and writes the object whole.
///
/// Atomic as ``StorageBackend/write(_:bytes:overwrite:)``: until ``commit(as:)`` returns,
/// no object exists under the name; a staged object dropped without a commit leaves
/// nothing behind but, after a crash, a temporary that
/// ``StorageBackend/removeStaleTemporaries(olderThan:)`` clears.
public protocol StagedObject: AnyObject, Sendable {
    /// Writes `bytes` at `offset`. One writer at a time, in order, each block following the
    /// last; blocking, so callers run it on ``BlockingIOQueue``. Blocks that are whole
    /// multiples of 4,096 bytes, at aligned addresses and offsets, may bypass the page cache.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws
    /// Makes what was written durable under `name`.
    /// - Throws: ``StorageError/alreadyExists(_:location:)`` when `name` exists.
    func commit(as name: ObjectName) async throws
}

/// Staging in memory, for backends that store an object in one request (S3, media): the
/// blocks are gathered and written whole at the commit.
final class MemoryStagedObject: StagedObject {
    private let backend: any StorageBackend
    private let expectedBytes: Int
    private let bytes = Mutex<[UInt8]>([])

    init(backend: any StorageBackend, expectedBytes: Int) {
        self.backend = backend
        self.expectedBytes = expectedBytes
    }

    func write(_ block: UnsafeRawBufferPointer, at offset: Int) throws {
        bytes.withLock { b in
            precondition(offset == b.count, "staged blocks come in order")
            // Room for all of it at the first block (not before: an object staged and never
            // written costs nothing): an array that grows doubles, and a 16 MiB pack would hold 32.
            if b.isEmpty { b.reserveCapacity(max(expectedBytes, block.count)) }
            b.append(contentsOf: block)
        }
    }

    func commit(as name: ObjectName) async throws {
        let whole = bytes.withLock { b in
            defer { b = [] }
            return b
        }
        try await backend.write(name, bytes: whole)
    }
}
