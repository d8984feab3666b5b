/// The sealed form of index segments and snapshots:
/// `data key id (32) || nonce || ciphertext || tag`, with additional data
/// `"lifeboat/v1/<kind>" || data key id`. The plaintext is one byte saying how the
/// payload is encoded (0 as is, 1 a zstd frame), the encoded payload's length as a
/// little-endian u32, the encoded payload, then zero padding: the plaintext size is rounded
/// up to a multiple of 256 bytes after a random 0 to 255 are added, so that the size of an
/// index segment does not give away how many blobs its packs hold.
package enum SealedObject {
    static let paddingGranule = 256

    /// The largest payload a sealed object of `kind` may decode to: a WAL object holds one
    /// segment (PostgreSQL allows up to 1 GiB) and its header; index segments and snapshots
    /// are far smaller. A hostile frame cannot make a reader allocate more.
    package static func maxPayloadBytes(_ kind: ObjectKind) -> Int {
        kind == .wal ? (1 << 30) + (64 << 10) : 256 << 20
    }
    static func additionalData(kind: ObjectKind, key: DataKeyID) -> [UInt8] {
        var ad = Array("lifeboat/v1/\(kind.rawValue)".utf8)
        key.digest.append(to: &ad)
        return ad
    }

    static func seal(_ payload: [UInt8], kind: ObjectKind, dataKey: DataKey, zstd: Zstd) -> [UInt8] {
        var plain: [UInt8]
        if let compressed = payload.withUnsafeBytes({ zstd.compressed($0, prefixBytes: 5) }) {
            plain = compressed
            plain[0] = 1
        } else {
            plain = [0, 0, 0, 0, 0]
            plain.append(contentsOf: payload)
        }
        let encodedBytes = UInt32(plain.count - 5)
        withUnsafeBytes(of: encodedBytes.littleEndian) { plain.replaceSubrange(1..<5, with: $0) }
        let padded = (plain.count + Int.random(in: 0..<paddingGranule) + paddingGranule - 1) / paddingGranule * paddingGranule
        plain.append(contentsOf: repeatElement(0, count: padded - plain.count))
        var out: [UInt8] = []
        dataKey.id.digest.append(to: &out)
        plain.withUnsafeBytes { p in
            additionalData(kind: kind, key: dataKey.id).withUnsafeBytes { ad in
                Sealing.seal(p, key: dataKey.key, additionalData: ad, appendingTo: &out)
            }
        }
        return out
    }

    static func keyID(of sealed: [UInt8], name: ObjectName) throws -> DataKeyID {
        guard sealed.count >= 32 + Sealing.overheadBytes + 1 else { throw RepositoryError.damaged(name, reason: "too short to be sealed") }
        return DataKeyID(Digest256(sealed[0..<32]))
    }

    static func open(_ sealed: [UInt8], name: ObjectName, dataKey: DataKey, zstd: Zstd) throws -> [UInt8] {
        let plain: [UInt8]
        do {
            plain = Array(try sealed.withUnsafeBytes { (p) throws in
                try additionalData(kind: name.kind, key: dataKey.id).withUnsafeBytes { (ad) throws in
                    try Sealing.open(UnsafeRawBufferPointer(rebasing: p[32...]), key: dataKey.key, additionalData: ad, what: name.path)
                }
            })
        } catch {
            throw RepositoryError.damaged(name, reason: "\(error)")
        }
        return try payload(ofPlaintext: plain, name: name, zstd: zstd)
    }

    /// The payload framed in an authenticated plaintext (encoding byte, length, payload,
    /// padding). Total on any input: a malformed frame is ``RepositoryError/damaged(_:reason:)``.
    package static func payload(ofPlaintext plain: [UInt8], name: ObjectName, zstd: Zstd) throws -> [UInt8] {
        guard plain.count >= 5 else { throw RepositoryError.damaged(name, reason: "plaintext too short") }
        let encoding = plain[0]
        let length = Int(plain.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 1, as: UInt32.self)) })
        guard length <= plain.count - 5 else { throw RepositoryError.damaged(name, reason: "payload length \(length) exceeds the object") }
        let payload = 5..<(5 + length)
        switch encoding {
        case 0:
            return Array(plain[payload])
        case 1:
            do {
                return try plain.withUnsafeBytes { (p) throws in
                    try zstd.decompress(UnsafeRawBufferPointer(rebasing: p[payload]), maxPlainBytes: maxPayloadBytes(name.kind))
                }
            } catch {
                throw RepositoryError.damaged(name, reason: "\(error)")
            }
        default:
            throw RepositoryError.damaged(name, reason: "unknown encoding \(encoding)")
        }
    }
}
