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

    package func validate() throws {
        guard n >= 2, n & (n - 1) == 0, n <= 1 << 22, (1...32).contains(r), (1...16).contains(p) else {
            throw CryptoError.unsupportedKDF("N=\(n) r=\(r) p=\(p)")
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
    /// `nonce || ciphertext || tag` of the 64 raw master-key bytes.
    public var sealedMasterKey: Data

    static let additionalData = Array("lifeboat/v1/master-key".utf8)

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

    /// Opens the master key; throws ``CryptoError/wrongPassphrase`` when the passphrase is not this key's.
    public func open(passphrase: String) throws -> MasterKey {
        guard kdf == "scrypt" else { throw CryptoError.unsupportedKDF(kdf) }
        try kdfParameters.validate()
        let kek = try Self.derive(passphrase: passphrase, salt: Array(salt), parameters: kdfParameters)
        let raw: Data
        do {
            raw = try Sealing.open(Array(sealedMasterKey), key: kek, additionalData: Self.additionalData, what: "key file")
        } catch CryptoError.authenticationFailed {
            throw CryptoError.wrongPassphrase
        }
        return try MasterKey(rawBytes: raw)
    }

    static func derive(passphrase: String, salt: [UInt8], parameters: KDFParameters) throws -> SymmetricKey {
        do {
            return try KDF.Scrypt.deriveKey(
                from: Array(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: parameters.n,
                blockSize: parameters.r, parallelism: parameters.p,
                maxMemory: 128 * parameters.n * parameters.r * parameters.p + (1 << 20))
        } catch {
            throw CryptoError.unsupportedKDF("scrypt failed for N=\(parameters.n) r=\(parameters.r) p=\(parameters.p)")
        }
    }
}
