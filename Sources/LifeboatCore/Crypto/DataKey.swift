@preconcurrency import Crypto
import Foundation

/// A key made for one backup run ("separate keys per backup"): every blob, pack header,
/// index segment and snapshot that run writes is sealed with it.
///
/// Stored as `datakeys/<sha256 of the file>` holding ``DataKeyFile``: the key sealed under
/// the master key's key-encryption key. The id is random and stays the same when
/// `key rotate` re-seals the key under a new master key.
public struct DataKey: Sendable {
    public let id: DataKeyID
    public let key: SymmetricKey
    /// What the key seals: nil for a backup run, ``DataKey/walPurpose`` for archived WAL.
    public var purpose: String?
    /// When the key was made, as its file says (nil until it has been stored or read).
    public var created: Date?

    /// Keys that seal `wal/` objects: one per day of archiving, not one per segment, so
    /// that thousands of pushes do not make thousands of key files.
    public static let walPurpose = "wal"

    /// The WAL key-encryption key: a second key-encryption key that seals copies of the WAL
    /// data keys, so that a WAL-only key file (which seals it, not the master key) opens
    /// archived WAL and nothing else. Stored like a data key, sealed under the master key.
    public static let walKeyEncryptionPurpose = "wal-kek"

    public init(id: DataKeyID, key: SymmetricKey, purpose: String? = nil, created: Date? = nil) {
        self.id = id
        self.key = key
        self.purpose = purpose
        self.created = created
    }

    public static func generate(purpose: String? = nil) -> DataKey {
        DataKey(id: DataKeyID(Digest256.random()), key: SymmetricKey(size: .bits256), purpose: purpose)
    }
}

public struct DataKeyFile: Codable, Sendable {
    public var version: Int
    public var id: DataKeyID
    public var created: Date
    /// nil for a backup run's key; `"wal"` for a key sealing archived WAL; `"wal-kek"` for
    /// the WAL key-encryption key.
    public var purpose: String?
    /// nil when sealed under the master key; else the id of the WAL key-encryption key
    /// that sealed this copy (a WAL data key then has one file of each kind).
    public var sealedUnder: DataKeyID?
    /// `nonce || ciphertext || tag` of the 32 key bytes; additional data binds it to `id`
    /// (and, for the WAL key-encryption key, to that purpose).
    public var sealedKey: Data

    /// `purpose` and `sealedUnder` are plaintext that whoever holds the storage can change.
    /// The WAL key-encryption key's role is therefore bound by its own additional data: a
    /// data key relabelled `"wal-kek"` does not open as one (nor at all), so it can neither
    /// be taken for it nor be dropped by `key rotate` as if it were.
    static func additionalData(_ id: DataKeyID, purpose: String? = nil) -> [UInt8] {
        var ad = Array((purpose == DataKey.walKeyEncryptionPurpose ? "lifeboat/v1/wal-kek" : "lifeboat/v1/data-key").utf8)
        id.digest.append(to: &ad)
        return ad
    }

    public static func seal(_ dataKey: DataKey, under master: MasterKey, created: Date) -> DataKeyFile {
        let raw = dataKey.key.withUnsafeBytes { Array($0) }
        let sealed = Sealing.seal(raw, key: master.keyEncryptionKey, additionalData: additionalData(dataKey.id, purpose: dataKey.purpose))
        return DataKeyFile(version: 1, id: dataKey.id, created: created, purpose: dataKey.purpose, sealedKey: Data(sealed))
    }

    /// A copy of a WAL data key sealed under the WAL key-encryption key `walKEK`.
    public static func seal(_ dataKey: DataKey, underWalKEK walKEK: DataKey, created: Date) -> DataKeyFile {
        let raw = dataKey.key.withUnsafeBytes { Array($0) }
        let sealed = Sealing.seal(raw, key: walKEK.key, additionalData: additionalData(dataKey.id, purpose: dataKey.purpose))
        return DataKeyFile(
            version: 1, id: dataKey.id, created: created, purpose: dataKey.purpose, sealedUnder: walKEK.id, sealedKey: Data(sealed))
    }

    public func open(with master: MasterKey) throws -> DataKey {
        try open(withKeyEncryptionKey: master.keyEncryptionKey)
    }

    /// Opens the key with the key-encryption key that sealed it (the master key's, or a WAL one).
    public func open(withKeyEncryptionKey kek: SymmetricKey) throws -> DataKey {
        let raw = try Sealing.open(
            Array(sealedKey), key: kek, additionalData: Self.additionalData(id, purpose: purpose), what: "data key \(id.shortHex)")
        guard raw.count == 32 else { throw CryptoError.malformed(what: "data key \(id.shortHex)", reason: "\(raw.count) bytes") }
        return DataKey(id: id, key: SymmetricKey(data: raw), purpose: purpose, created: created)
    }
}
