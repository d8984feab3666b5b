import Synchronization

/// Reusable byte arrays for the byte path.
///
/// A backup allocates a pack buffer per pack and a scratch buffer per blob; freeing and
/// allocating them again made glibc keep tens of MiB more than the live data and pay
/// page faults for fresh memory. Arrays handed back keep their capacity; at most
/// `keep` are held, so the pool itself is bounded.
public final class ByteArrayPool: Sendable {
    private let arrays = Mutex<[[UInt8]]>([])
    private let keep: Int
    private let maxKeptCapacity: Int

    /// - Parameters:
    ///   - keep: how many arrays the pool holds at most.
    ///   - maxKeptCapacity: an array handed back with more capacity than this is freed
    ///     instead of kept (a rare large one should not stay for the rest of the run).
    public init(keep: Int, maxKeptCapacity: Int = .max) {
        self.keep = keep
        self.maxKeptCapacity = maxKeptCapacity
    }

    /// An empty array, with the capacity of one used before when there is one.
    public func take(minimumCapacity: Int = 0) -> [UInt8] {
        var a = arrays.withLock { $0.popLast() } ?? []
        // Emptied here, not in `give`: by now the giver has let go, so the buffer is
        // uniquely ours and keeps its capacity (emptying a shared one would copy it).
        a.removeAll(keepingCapacity: true)
        a.reserveCapacity(minimumCapacity)
        return a
    }

    public func give(_ array: [UInt8]) {
        guard array.capacity <= maxKeptCapacity else { return }
        arrays.withLock { if $0.count < keep { $0.append(array) } }
    }

    /// Frees every array held.
    public func removeAll() {
        arrays.withLock { $0.removeAll() }
    }
}

/// Reusable aligned raw buffers of one size (read windows, direct-I/O staging).
final class RawBufferPool: Sendable {
    let byteCount: Int
    let alignment: Int
    private let buffers = Mutex<[Buffer]>([])
    private let keep: Int

    /// @unchecked Sendable: a buffer is used by one caller between `take` and `give`.
    struct Buffer: @unchecked Sendable {
        let pointer: UnsafeMutableRawBufferPointer
    }

    init(byteCount: Int, alignment: Int = 4096, keep: Int) {
        self.byteCount = byteCount
        self.alignment = alignment
        self.keep = keep
    }

    deinit {
        buffers.withLock { for b in $0 { b.pointer.deallocate() } }
    }

    func take() -> Buffer {
        buffers.withLock { $0.popLast() } ?? Buffer(pointer: .allocate(byteCount: byteCount, alignment: alignment))
    }

    /// Frees every buffer held.
    func removeAll() {
        let held = buffers.withLock { pool in
            defer { pool = [] }
            return pool
        }
        for b in held { b.pointer.deallocate() }
    }

    func give(_ buffer: Buffer) {
        let kept = buffers.withLock { pool -> Bool in
            guard pool.count < keep else { return false }
            pool.append(buffer)
            return true
        }
        if !kept { buffer.pointer.deallocate() }
    }
}
