/// The sealed form of index segments and snapshots:
/// `data key id (32) || nonce || ciphertext || tag`, with additional data
/// `"lifeboat/v1/<kind>" || data key id`. The plaintext starts with one byte saying how
/// the rest is encoded: 0 as is, 1 a zstd frame.
enum SealedObject {
    static func additionalData(kind: ObjectKind, key: DataKeyID) -> [UInt8] {
        var ad = Array("lifeboat/v1/\(kind.rawValue)".utf8)
        key.digest.append(to: &ad)
        return ad
    }

    static func seal(_ payload: [UInt8], kind: ObjectKind, dataKey: DataKey, zstd: Zstd) -> [UInt8] {
        var plain: [UInt8] = [1]
        let compressed = payload.withUnsafeBytes { zstd.compress($0, appendingTo: &plain) }
        if !compressed {
            plain = [0]
            plain.append(contentsOf: payload)
        }
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
        guard let encoding = plain.first else { throw RepositoryError.damaged(name, reason: "empty plaintext") }
        switch encoding {
        case 0:
            return Array(plain.dropFirst())
        case 1:
            do {
                return try plain.withUnsafeBytes { (p) throws in try zstd.decompress(UnsafeRawBufferPointer(rebasing: p[1...])) }
            } catch {
                throw RepositoryError.damaged(name, reason: "\(error)")
            }
        default:
            throw RepositoryError.damaged(name, reason: "unknown encoding \(encoding)")
        }
    }
}
