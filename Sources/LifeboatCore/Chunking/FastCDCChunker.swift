@preconcurrency import Crypto

/// Content-defined chunking with FastCDC (Xia et al., USENIX ATC 2016; normalized
/// chunking, level 2) over a gear table derived from the repository secret.
///
/// The rolling "gear" hash is `h = (h << 1) &+ gear[byte]`; a chunk ends where the top
/// bits of `h` are zero. Before the average size a stricter mask (two more bits) is
/// used, after it a looser one (two fewer), which pulls sizes towards the average.
/// The first `minChunkBytes` of a chunk are not hashed at all. Because the gear table
/// is secret, boundaries (and so chunk sizes) reveal nothing about the content to
/// whoever holds the storage.
///
/// This is the one per-byte loop in Swift: it runs over raw pointers and allocates nothing.
public struct FastCDCChunker: Chunker {
    public let minChunkBytes: Int
    public let averageChunkBytes: Int
    public let maxChunkBytes: Int
    private let gear: GearTable
    private let strictMask: UInt64
    private let looseMask: UInt64

    /// - Parameters:
    ///   - secret: 32 secret bytes (``MasterKey/derivedSecret(for:)`` with "chunker").
    ///   - averageChunkBytes: a power of two.
    public init(secret: SymmetricKey, minChunkBytes: Int = 512 << 10, averageChunkBytes: Int = 1 << 20, maxChunkBytes: Int = 8 << 20) {
        precondition(averageChunkBytes > 0 && averageChunkBytes & (averageChunkBytes - 1) == 0, "average must be a power of two")
        precondition(minChunkBytes < averageChunkBytes && averageChunkBytes < maxChunkBytes, "min < average < max")
        self.minChunkBytes = minChunkBytes
        self.averageChunkBytes = averageChunkBytes
        self.maxChunkBytes = maxChunkBytes
        self.gear = GearTable(secret: secret)
        let bits = averageChunkBytes.trailingZeroBitCount
        // The high bits of h depend on the last 64 bytes, the low ones on fewer: test the high ones.
        strictMask = ~UInt64(0) << UInt64(64 - (bits + 2))
        looseMask = ~UInt64(0) << UInt64(64 - (bits - 2))
    }

    public func nextChunkLength(in window: UnsafeRawBufferPointer, isEndOfStream: Bool) -> Int {
        let n = min(window.count, maxChunkBytes)
        if n <= minChunkBytes { return n }
        guard let base = window.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return n }
        return gear.withTable { table in
            var h: UInt64 = 0
            var i = minChunkBytes
            let barrier = min(n, averageChunkBytes)
            while i < barrier {
                h = (h << 1) &+ table[Int(base[i])]
                if h & strictMask == 0 { return i + 1 }
                i += 1
            }
            while i < n {
                h = (h << 1) &+ table[Int(base[i])]
                if h & looseMask == 0 { return i + 1 }
                i += 1
            }
            return n
        }
    }
}

/// 256 pseudo-random words from HMAC-SHA256(secret, counter).
struct GearTable: Sendable {
    private let words: [UInt64]

    init(secret: SymmetricKey) {
        var words = [UInt64]()
        words.reserveCapacity(256)
        for counter in 0..<64 {
            let mac = HMAC<SHA256>.authenticationCode(for: [UInt8(counter), 0x67, 0x65, 0x61, 0x72], using: secret)
            mac.withUnsafeBytes { p in
                for j in 0..<4 { words.append(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * j, as: UInt64.self))) }
            }
        }
        self.words = words
    }

    @inline(__always)
    func withTable<R>(_ body: (UnsafePointer<UInt64>) -> R) -> R {
        words.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
