@preconcurrency import Crypto
import Foundation
import _CryptoExtras

/// The repository's secret: a key-encryption key that seals the data keys and a blob-ID
/// key that names blobs (HMAC-SHA256) and derives the chunker's gear table.
///
/// It is made once, at `init`, and stored only sealed under passphrase-derived keys
/// (``KeyFile``). Rotating it re-seals the data keys; blob ids, and therefore
/// deduplication, survive because the blob-ID key is carried over.
public struct MasterKey: Sendable {
    public let keyEncryptionKey: SymmetricKey
    public let blobIDKey: SymmetricKey

    public init(keyEncryptionKey: SymmetricKey, blobIDKey: SymmetricKey) {
        self.keyEncryptionKey = keyEncryptionKey
        self.blobIDKey = blobIDKey
    }

    public static func generate() -> MasterKey {
        MasterKey(keyEncryptionKey: SymmetricKey(size: .bits256), blobIDKey: SymmetricKey(size: .bits256))
    }

    /// 64 bytes: key-encryption key, then blob-ID key.
    var rawBytes: [UInt8] {
        var out = [UInt8]()
        keyEncryptionKey.withUnsafeBytes { out.append(contentsOf: $0) }
        blobIDKey.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    init(rawBytes: Data) throws {
        guard rawBytes.count == 64 else { throw CryptoError.malformed(what: "master key", reason: "\(rawBytes.count) bytes, expected 64") }
        keyEncryptionKey = SymmetricKey(data: rawBytes.prefix(32))
        blobIDKey = SymmetricKey(data: rawBytes.suffix(32))
    }

    /// The blob id of `plaintext`: HMAC-SHA256 under the blob-ID key.
    @inlinable
    public func blobID(of plaintext: UnsafeRawBufferPointer) -> BlobID {
        BlobID(Digest256(HMAC<SHA256>.authenticationCode(for: plaintext, using: blobIDKey)))
    }

    public func blobID(of plaintext: [UInt8]) -> BlobID {
        plaintext.withUnsafeBytes { blobID(of: $0) }
    }

    /// 32 bytes derived for one purpose (HKDF-SHA256 over the blob-ID key); the chunker's
    /// gear table is made from `derivedSecret(for: "chunker")`.
    public func derivedSecret(for purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: blobIDKey, salt: Array("lifeboat-v1".utf8), info: Array(purpose.utf8), outputByteCount: 32)
    }
}

/// Parameters of scrypt, stored in each key file so that they can be raised later.
public struct KDFParameters: Codable, Sendable, Equatable {
    public var n: Int
    public var r: Int
    public var p: Int

    /// 2^15 x 8 x 1: 32 MiB and about 0.1 s per unlock on this class of machine.
    public static let standard = KDFParameters(n: 1 << 15, r: 8, p: 1)

    public init(n: Int, r: Int, p: Int) {
        self.n = n
        self.r = r
        self.p = p
    }

    /// The most a key file may ask for. Key files come from storage, which a provider
    /// controls: a reader never derives with parameters beyond these, so a planted file
    /// cannot make it allocate gigabytes or spin for minutes (docs/repository-format.md 4.1).
    public static let maxN = 1 << 20
    public static let maxR = 32
    public static let maxP = 16
    /// scrypt's table, 128·N·r bytes: 32 times the standard parameters' 32 MiB.
    public static let maxMemoryBytes = 1 << 30
    /// scrypt's work, 128·N·r·p bytes mixed: a few seconds at most on a small server.
    public static let maxWorkBytes = 1 << 31

    /// 128·N·r, scrypt's table (meaningful once the parameters are within ``maxN`` and ``maxR``).
    var memoryBytes: Int { 128 * n * r }
    var workBytes: Int { memoryBytes * p }

    package func validate() throws(CryptoError) {
        guard n >= 2, n & (n - 1) == 0, n <= Self.maxN, (1...Self.maxR).contains(r), (1...Self.maxP).contains(p) else {
            throw CryptoError.unsupportedKDF("N=\(n) r=\(r) p=\(p)")
        }
        // Within the ranges above these products cannot overflow.
        guard memoryBytes <= Self.maxMemoryBytes, workBytes <= Self.maxWorkBytes else {
            throw CryptoError.unsupportedKDF("N=\(n) r=\(r) p=\(p) needs \(memoryBytes >> 20) MiB and \(workBytes >> 20) MiB of work")
        }
    }
}

/// `keys/<sha256>`: the master key sealed under a key derived from one passphrase.
public struct KeyFile: Codable, Sendable {
    public var version: Int
    public var created: Date
    public var host: String
    public var username: String
    public var kdf: String
    public var kdfParameters: KDFParameters
    public var salt: Data
    /// nil: the key file seals the master key. `"wal"`: it seals only the WAL key-encryption
    /// key (``DataKey/walKeyEncryptionPurpose``), for `archive_command` and `restore_command`.
    public var scope: String?
    /// `nonce || ciphertext || tag` of the 64 raw master-key bytes (for a WAL-only key file:
    /// of the WAL key-encryption key's id and its 32 bytes).
    public var sealedMasterKey: Data

    static let additionalData = Array("lifeboat/v1/master-key".utf8)
    /// A different additional data, so that a reader that does not know WAL-only key files
    /// can never take one's contents for a master key: to it the passphrase does not open it.
    static let walAdditionalData = Array("lifeboat/v1/wal-key".utf8)
    public static let walScope = "wal"

    public var isWalOnly: Bool { scope == Self.walScope }

    /// Seals `masterKey` under `passphrase`.
    public static func make(
        masterKey: MasterKey, passphrase: String, parameters: KDFParameters, host: String, username: String, created: Date
    ) throws -> KeyFile {
        try parameters.validate()
        var salt = [UInt8](repeating: 0, count: 32)
        var g = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = g.next() }
        let kek = try derive(passphrase: passphrase, salt: salt, parameters: parameters)
        let sealed = Sealing.seal(masterKey.rawBytes, key: kek, additionalData: additionalData)
        return KeyFile(
            version: 1, created: created, host: host, username: username, kdf: "scrypt", kdfParameters: parameters,
            salt: Data(salt), sealedMasterKey: Data(sealed))
    }

    /// Seals the WAL key-encryption key `walKEK` under `passphrase`: a WAL-only key file.
    public static func makeWalOnly(
        walKEK: DataKey, passphrase: String, parameters: KDFParameters, host: String, username: String, created: Date
    ) throws -> KeyFile {
        var file = try make(masterKey: .generate(), passphrase: passphrase, parameters: parameters, host: host, username: username, created: created)
        var raw: [UInt8] = []
        walKEK.id.digest.append(to: &raw)
        walKEK.key.withUnsafeBytes { raw.append(contentsOf: $0) }
        let kek = try derive(passphrase: passphrase, salt: Array(file.salt), parameters: parameters)
        file.scope = walScope
        file.sealedMasterKey = Data(Sealing.seal(raw, key: kek, additionalData: walAdditionalData))
        return file
    }

    /// Opens the master key; throws ``CryptoError/wrongPassphrase`` when the passphrase is not
    /// this key's, ``CryptoError/walOnlyKey`` when it is but the file is WAL-only.
    public func open(passphrase: String) throws -> MasterKey {
        if isWalOnly {
            _ = try openWalKEK(passphrase: passphrase)
            throw CryptoError.walOnlyKey
        }
        guard scope == nil else { throw CryptoError.unsupportedKDF("key scope '\(scope!)'") }
        return try MasterKey(rawBytes: try unseal(passphrase: passphrase, additionalData: Self.additionalData))
    }

    /// Opens the WAL key-encryption key of a WAL-only key file.
    public func openWalKEK(passphrase: String) throws -> DataKey {
        guard isWalOnly else { throw CryptoError.malformed(what: "key file", reason: "not a WAL-only key") }
        let raw = try unseal(passphrase: passphrase, additionalData: Self.walAdditionalData)
        guard raw.count == 64 else { throw CryptoError.malformed(what: "WAL-only key file", reason: "\(raw.count) bytes, expected 64") }
        let id = DataKeyID(Digest256(Array(raw.prefix(32))))
        return DataKey(id: id, key: SymmetricKey(data: raw.suffix(32)), purpose: DataKey.walKeyEncryptionPurpose)
    }

    private func unseal(passphrase: String, additionalData: [UInt8]) throws -> Data {
        guard kdf == "scrypt" else { throw CryptoError.unsupportedKDF(kdf) }
        try kdfParameters.validate()
        let kek = try Self.derive(passphrase: passphrase, salt: Array(salt), parameters: kdfParameters)
        do {
            return try Sealing.open(Array(sealedMasterKey), key: kek, additionalData: additionalData, what: "key file")
        } catch CryptoError.authenticationFailed {
            throw CryptoError.wrongPassphrase
        }
    }

    static func derive(passphrase: String, salt: [UInt8], parameters: KDFParameters) throws -> SymmetricKey {
        // Never derive with parameters beyond the caps, whoever the caller is.
        try parameters.validate()
        do {
            return try KDF.Scrypt.deriveKey(
                from: Array(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: parameters.n,
                blockSize: parameters.r, parallelism: parameters.p,
                // BoringSSL's own bound, 128·r·(N + p + 1), with room: validate() has bounded it.
                maxMemory: 128 * parameters.r * (parameters.n + parameters.p + 1) + (1 << 20))
        } catch {
            throw CryptoError.unsupportedKDF("scrypt failed for N=\(parameters.n) r=\(parameters.r) p=\(parameters.p)")
        }
    }
}
