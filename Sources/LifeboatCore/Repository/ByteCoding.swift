/// Little-endian fixed-width integers for the binary parts of the format (pack
/// headers, index segments), written and read without per-field allocations.
package struct ByteWriter {
    package var bytes: [UInt8] = []

    package init() {}

    package mutating func u8(_ v: UInt8) { bytes.append(v) }
    package mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    package mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    package mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    package mutating func digest(_ d: Digest256) { d.append(to: &bytes) }
    package mutating func raw(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    let what: String

    init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    var remaining: Int { bytes.count - offset }

    private mutating func take(_ n: Int) throws -> Int {
        guard n <= remaining else { throw CryptoError.malformed(what: what, reason: "ends early at byte \(offset)") }
        defer { offset += n }
        return offset
    }

    mutating func u8() throws -> UInt8 { bytes[try take(1)] }
    mutating func u16() throws -> UInt16 {
        let at = try take(2)
        return bytes.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
    }
    mutating func u32() throws -> UInt32 {
        let at = try take(4)
        return bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    }
    mutating func u64() throws -> UInt64 {
        let at = try take(8)
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    }
    mutating func digest() throws -> Digest256 {
        let at = try take(32)
        return bytes.withUnsafeBytes { Digest256(bytes: UnsafeRawBufferPointer(rebasing: $0[at..<(at + 32)])) }
    }
    mutating func raw(_ n: Int) throws -> ArraySlice<UInt8> {
        let at = try take(n)
        return bytes[at..<(at + n)]
    }
}
