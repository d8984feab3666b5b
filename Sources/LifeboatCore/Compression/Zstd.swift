import CZstd
import Synchronization

/// zstd through libzstd, with compression contexts reused across calls.
///
/// Making a context allocates a few MiB; with tens of thousands of small blobs per
/// backup that would dominate, so contexts live in a pool and are handed out one per
/// call. Both directions are thread-safe.
public final class Zstd: Sendable {
    public let level: Int32
    private let compressionContexts = Mutex<[Context]>([])
    private let decompressionContexts = Mutex<[Context]>([])

    /// A zstd context. @unchecked Sendable: the pool hands each context to one caller at a
    /// time and takes it back after the call, so no two threads ever use one at once.
    private struct Context: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    public init(level: Int32 = 3) {
        self.level = level
    }

    deinit {
        compressionContexts.withLock { for c in $0 { ZSTD_freeCCtx(c.pointer) } }
        decompressionContexts.withLock { for c in $0 { ZSTD_freeDCtx(c.pointer) } }
    }

    /// Compresses `input` and appends the frame to `output`, but only when that saves at
    /// least 1/32 of the input; returns whether it did. Incompressible data is detected
    /// on a 64 KiB sample first so random bytes cost almost nothing: four 16 KiB spots
    /// spread over the input, so that a chunk that starts random and goes on as text (a
    /// chunk boundary need not fall where the content changes) is still compressed.
    public func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) -> Bool {
        guard input.count >= 64 else { return false }
        let context = compressionContexts.withLock { $0.popLast() } ?? Context(pointer: ZSTD_createCCtx()!)
        defer { compressionContexts.withLock { $0.append(context) } }
        let ctx = context.pointer
        if input.count > 256 * 1024, !Self.sampleCompresses(input, context: ctx) { return false }
        let bound = ZSTD_compressBound(input.count)
        let start = output.count
        let limit = input.count - input.count / 32
        output.append(contentsOf: repeatElement(0, count: bound))
        let written = output.withUnsafeMutableBytes { out in
            ZSTD_compressCCtx(ctx, out.baseAddress! + start, bound, input.baseAddress, input.count, level)
        }
        guard ZSTD_isError(written) == 0, written < limit else {
            output.removeLast(bound)
            return false
        }
        output.removeLast(bound - written)
        return true
    }

    /// Whether any of four 16 KiB spots of `input` (at its start, a quarter, a half and
    /// three quarters in) saves at least 1/64 at level 1.
    static func sampleCompresses(_ input: UnsafeRawBufferPointer, context ctx: OpaquePointer) -> Bool {
        let spot = 16 * 1024
        var scratch = [UInt8](repeating: 0, count: ZSTD_compressBound(spot))
        return scratch.withUnsafeMutableBytes { out in
            for quarter in 0..<4 {
                let start = min(input.count - spot, input.count * quarter / 4)
                let sample = UnsafeRawBufferPointer(rebasing: input[start..<(start + spot)])
                let n = ZSTD_compressCCtx(ctx, out.baseAddress, out.count, sample.baseAddress, sample.count, 1)
                if ZSTD_isError(n) != 0 || n <= spot - spot / 64 { return true }
            }
            return false
        }
    }

    /// Compresses `input` into a new array that starts with `prefixBytes` zero bytes for
    /// the caller's header; nil when compression does not save at least 1/32.
    ///
    /// For large single objects (WAL segments, index segments): the array is made
    /// uninitialised and filled by zstd, with no zero-filling pass over the bound.
    public func compressed(_ input: UnsafeRawBufferPointer, prefixBytes: Int) -> [UInt8]? {
        guard input.count >= 64 else { return nil }
        let context = compressionContexts.withLock { $0.popLast() } ?? Context(pointer: ZSTD_createCCtx()!)
        defer { compressionContexts.withLock { $0.append(context) } }
        let bound = ZSTD_compressBound(input.count)
        let limit = input.count - input.count / 32
        var failed = false
        let out = [UInt8](unsafeUninitializedCapacity: prefixBytes + bound) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: prefixBytes)
            let written = ZSTD_compressCCtx(context.pointer, raw.baseAddress! + prefixBytes, bound, input.baseAddress, input.count, level)
            failed = ZSTD_isError(written) != 0 || written >= limit
            count = failed ? 0 : prefixBytes + written
        }
        return failed ? nil : out
    }

    /// Decompresses one frame whose content is exactly `plainBytes` long.
    public func decompress(_ input: UnsafeRawBufferPointer, plainBytes: Int) throws -> [UInt8] {
        let context = decompressionContexts.withLock { $0.popLast() } ?? Context(pointer: ZSTD_createDCtx()!)
        defer { decompressionContexts.withLock { $0.append(context) } }
        let ctx = context.pointer
        var out = [UInt8](repeating: 0, count: plainBytes)
        let n = out.withUnsafeMutableBytes { o in
            ZSTD_decompressDCtx(ctx, o.baseAddress, o.count, input.baseAddress, input.count)
        }
        if ZSTD_isError(n) != 0 {
            throw CompressionError.corrupt(String(cString: ZSTD_getErrorName(n)))
        }
        guard n == plainBytes else { throw CompressionError.corrupt("\(n) bytes decompressed, \(plainBytes) expected") }
        return out
    }

    /// The most a zstd frame can expand: a block of at most 128 KiB takes at least 4 bytes
    /// (an RLE block's 3-byte header and its byte), so a declared size beyond this many
    /// times the frame's length is a lie, refused before anything is allocated for it.
    static let maxExpansion = (128 << 10) / 4

    /// Decompresses a frame of unknown size (sealed index segments, snapshots, WAL objects).
    /// - Parameter maxPlainBytes: the largest content the caller can use; a frame declaring
    ///   more is refused before anything is allocated, so a hostile frame cannot make the
    ///   caller allocate more than its own limit and the frame's length justify.
    public func decompress(_ input: UnsafeRawBufferPointer, maxPlainBytes: Int) throws -> [UInt8] {
        let size = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN else {
            throw CompressionError.corrupt("frame without a readable content size")
        }
        guard size <= UInt64(maxPlainBytes), size <= UInt64(input.count) * UInt64(Self.maxExpansion) else {
            throw CompressionError.corrupt("frame declares \(size) bytes, more than \(min(maxPlainBytes, input.count * Self.maxExpansion)) its length and kind allow")
        }
        return try decompress(input, plainBytes: Int(size))
    }
}

public enum CompressionError: Error, Sendable, CustomStringConvertible {
    case corrupt(String)
    public var description: String { "zstd data is corrupt: \(self.reason)" }
    var reason: String {
        switch self { case .corrupt(let r): return r }
    }
}
