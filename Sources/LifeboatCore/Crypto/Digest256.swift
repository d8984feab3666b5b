@preconcurrency import Crypto
import Foundation

/// A 256-bit value: a SHA-256 or HMAC-SHA256 result, or a random identifier.
///
/// Stored as four words so that hashing and comparing it in the index's
/// dictionaries costs no allocation.
public struct Digest256: Hashable, Comparable, Sendable {
    public static let byteCount = 32

    @usableFromInline var w0, w1, w2, w3: UInt64

    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == Self.byteCount, "a Digest256 is 32 bytes")
        // Big-endian words keep `<` equal to the lexicographic order of the bytes and of the hex.
        w0 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    public init<D: ContiguousBytes>(_ bytes: D) {
        self = bytes.withUnsafeBytes { Digest256(bytes: $0) }
    }

    /// Parses 64 hexadecimal digits (either case).
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let hi = Self.nibble(utf8[2 * i]), let lo = Self.nibble(utf8[2 * i + 1]) else { return nil }
            out[i] = hi << 4 | lo
        }
        self.init(out)
    }

    public static func random() -> Digest256 {
        var g = SystemRandomNumberGenerator()
        return Digest256(words: g.next(), g.next(), g.next(), g.next())
    }

    init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    public static func sha256<D: DataProtocol>(_ data: D) -> Digest256 {
        Digest256(SHA256.hash(data: data))
    }

    public static func sha256(_ data: UnsafeRawBufferPointer) -> Digest256 {
        Digest256(SHA256.hash(data: data))
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { p in
            p.storeBytes(of: w0.bigEndian, toByteOffset: 0, as: UInt64.self)
            p.storeBytes(of: w1.bigEndian, toByteOffset: 8, as: UInt64.self)
            p.storeBytes(of: w2.bigEndian, toByteOffset: 16, as: UInt64.self)
            p.storeBytes(of: w3.bigEndian, toByteOffset: 24, as: UInt64.self)
        }
        return out
    }

    /// Appends the 32 bytes to `buffer` without an intermediate array.
    public func append(to buffer: inout [UInt8]) {
        withUnsafeBytes(of: (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)) { buffer.append(contentsOf: $0) }
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 64)
        for (i, b) in bytes.enumerated() {
            out[2 * i] = digits[Int(b >> 4)]
            out[2 * i + 1] = digits[Int(b & 0xf)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (a: Digest256, b: Digest256) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// An identifier that is a 256-bit digest; each kind of object has its own type so
/// that a blob id can never be passed where a pack id is expected.
public protocol DigestIdentifier: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    var digest: Digest256 { get }
    init(_ digest: Digest256)
}

extension DigestIdentifier {
    public init?(hex: some StringProtocol) {
        guard let d = Digest256(hex: hex) else { return nil }
        self.init(d)
    }
    public var hex: String { digest.hex }
    /// The first eight hex digits, as users see it in listings.
    public var shortHex: String { String(digest.hex.prefix(8)) }
    public var description: String { digest.hex }
    public static func < (a: Self, b: Self) -> Bool { a.digest < b.digest }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let d = Digest256(hex: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not 64 hex digits: \(s.prefix(80))"))
        }
        self.init(d)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(digest.hex)
    }
}

/// HMAC-SHA256 of a blob's plaintext under the repository's blob-ID key.
public struct BlobID: DigestIdentifier { public let digest: Digest256; public init(_ d: Digest256) { digest = d } }
/// SHA-256 of a pack file's bytes: its name under `data/`.
public struct PackID: DigestIdentifier { public let digest: Digest256; public init(_ d: Digest256) { digest = d } }
/// SHA-256 of a sealed snapshot file: its name under `snapshots/`.
public struct SnapshotID: DigestIdentifier { public let digest: Digest256; public init(_ d: Digest256) { digest = d } }
/// A random identifier given to a data key when it is made; stable across key rotation.
public struct DataKeyID: DigestIdentifier { public let digest: Digest256; public init(_ d: Digest256) { digest = d } }
