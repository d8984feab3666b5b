import Foundation

/// The first 24 bytes (192 bits) of a blob id: what the master index keeps of each id, so
/// that a blob costs 40 bytes of memory rather than 48.
///
/// Blob ids are HMAC-SHA-256 values under the repository's secret key: nobody without the key
/// can make two blobs share these 192 bits, and by chance it is as likely as a 192-bit MAC
/// collision (about N²/2¹⁹³: 10⁻⁴⁰ for ten billion blobs). Even then nothing wrong would be
/// read: a blob is opened with its whole id as AES-GCM's additional data, so a blob found
/// under another id's key fails authentication instead of being returned.
public struct BlobKey: Hashable, Comparable, Sendable {
    let w0, w1, w2: UInt64

    public init(_ id: BlobID) {
        (w0, w1, w2) = (id.digest.w0, id.digest.w1, id.digest.w2)
    }

    public static func < (a: BlobKey, b: BlobKey) -> Bool {
        if a.w0 != b.w0 { return a.w0 < b.w0 }
        if a.w1 != b.w1 { return a.w1 < b.w1 }
        return a.w2 < b.w2
    }

    /// The 48 hexadecimal digits of the 24 bytes (the id's first 48).
    public var hex: String { String(format: "%016llx%016llx%016llx", w0, w1, w2) }
    public var shortHex: String { String(hex.prefix(8)) }
}
