@preconcurrency import Crypto
import Foundation

/// An open repository in one storage location: its config, its unlocked keys, and the
/// reading side of the format (index, blobs, trees, snapshots).
///
/// Writing new blobs goes through a ``BlobWriter`` made for one backup run.
public final class Repository: Sendable {
    public let backend: any StorageBackend
    public let config: RepositoryConfig
    public let masterKey: MasterKey
    let zstd: Zstd
    /// The data keys the master key opened, and those other processes add meanwhile.
    let dataKeyRing: DataKeyRing
    /// The key file the passphrase opened (nil right after `init`, which wrote the first one).
    public let keyName: ObjectName?

    public var location: String { backend.locationDescription }

    private init(backend: any StorageBackend, config: RepositoryConfig, masterKey: MasterKey, keyName: ObjectName?) {
        self.backend = backend
        self.keyName = keyName
        self.config = config
        self.masterKey = masterKey
        self.zstd = Zstd(level: 3)
        self.dataKeyRing = DataKeyRing(backend: backend, masterKey: masterKey)
    }

    // MARK: - Creating and opening

    /// Writes `config` and the first key file into an empty location.
    public static func initialize(
        backend: any StorageBackend, passphrase: String, kdf: KDFParameters = .standard, host: String, username: String,
        now: Date = Date()
    ) async throws -> Repository {
        if try await backend.exists(.config) { throw RepositoryError.alreadyInitialized(location: backend.locationDescription) }
        let master = MasterKey.generate()
        let config = RepositoryConfig.new(created: now)
        let keyFile = try KeyFile.make(masterKey: master, passphrase: passphrase, parameters: kdf, host: host, username: username, created: now)
        let keyName = try await writeKeyFile(keyFile, to: backend)
        // The config goes last: a location with a config is a complete repository.
        try await backend.write(.config, bytes: JSONCoding.encode(config))
        return Repository(backend: backend, config: config, masterKey: master, keyName: keyName)
    }

    @discardableResult
    static func writeKeyFile(_ keyFile: KeyFile, to backend: any StorageBackend) async throws -> ObjectName {
        let bytes = JSONCoding.encode(keyFile)
        let name = ObjectName(.keys, Digest256.sha256(bytes).hex)
        try await backend.write(name, bytes: bytes)
        return name
    }

    /// Opens the repository with a passphrase: reads `config`, finds the key file the
    /// passphrase opens, and unseals every data key.
    ///
    /// - Throws: ``RepositoryError/notARepository(location:)``, ``CryptoError/wrongPassphrase``,
    ///   ``RepositoryError/unsupportedVersion(_:location:)``, or a storage error.
    public static func open(backend: any StorageBackend, passphrase: String) async throws -> Repository {
        let config = try await readConfig(backend)
        let keys = try await backend.list(.keys)
        guard !keys.isEmpty else { throw RepositoryError.noKeys(location: backend.locationDescription) }
        var master: MasterKey?
        var opened: ObjectName?
        var unreadable: [String] = []
        for key in keys {
            // One damaged key file must not lock out the passphrases of the others.
            guard let bytes = try? await backend.read(key.name),
                let file = try? JSONCoding.decode(KeyFile.self, from: bytes, what: key.name.path)
            else {
                unreadable.append(key.name.path)
                continue
            }
            do {
                master = try file.open(passphrase: passphrase)
                opened = key.name
                break
            } catch CryptoError.wrongPassphrase {
                continue
            }
        }
        guard let master else {
            if unreadable.count == keys.count {
                throw RepositoryError.undecodable(what: unreadable.joined(separator: ", "), reason: "no key file is readable")
            }
            throw CryptoError.wrongPassphrase
        }
        let repo = Repository(backend: backend, config: config, masterKey: master, keyName: opened)
        try await repo.loadDataKeys()
        return repo
    }

    static func readConfig(_ backend: any StorageBackend) async throws -> RepositoryConfig {
        let bytes: [UInt8]
        do {
            bytes = try await backend.read(.config)
        } catch StorageError.objectNotFound {
            throw RepositoryError.notARepository(location: backend.locationDescription)
        }
        let config = try JSONCoding.decode(RepositoryConfig.self, from: bytes, what: "config")
        guard config.format == "lifeboat-repository" else { throw RepositoryError.notARepository(location: backend.locationDescription) }
        guard config.version == RepositoryConfig.currentVersion else {
            throw RepositoryError.unsupportedVersion(config.version, location: backend.locationDescription)
        }
        if let problem = config.problem { throw RepositoryError.invalidConfig(problem, location: backend.locationDescription) }
        return config
    }

    /// Reads the data keys written since the last call: other processes (a backup run, `wal
    /// push`) add keys while this one holds the repository open.
    /// - Throws: a storage error when the location cannot be listed.
    public func refreshDataKeys() async throws {
        try await dataKeyRing.load()
    }

    func loadDataKeys() async throws {
        try await dataKeyRing.load()
    }

    /// Makes, seals and stores a fresh data key for one backup run.
    func createDataKey(now: Date, purpose: String? = nil) async throws -> DataKey {
        try await dataKeyRing.create(now: now, purpose: purpose)
    }

    /// Every data key this repository's master key opened.
    var allDataKeys: [DataKey] { dataKeyRing.all }

    /// The same repository seen through another master key (after `key rotate`).
    func reopened(with master: MasterKey, keyName: ObjectName?) async throws -> Repository {
        let repo = Repository(backend: backend, config: config, masterKey: master, keyName: keyName)
        try await repo.loadDataKeys()
        return repo
    }

    /// The data key `id`, among those this process has read.
    /// - Throws: ``RepositoryError/dataKeyMissing(_:)`` when it is not among them.
    public func dataKey(_ id: DataKeyID) throws -> DataKey {
        try dataKeyRing.key(id)
    }

    /// As ``dataKey(_:)``, but a key this process has not seen yet is looked for once more
    /// in the location (written by another process since this one opened it).
    func dataKeyRefreshing(_ id: DataKeyID) async throws -> DataKey {
        try await dataKeyRing.keyRefreshing(id)
    }

    /// The chunker for ordinary files, keyed by the repository secret.
    public func makeChunker() -> FastCDCChunker {
        FastCDCChunker(
            secret: masterKey.derivedSecret(for: "chunker"), minChunkBytes: config.chunker.minChunkBytes,
            averageChunkBytes: config.chunker.averageChunkBytes, maxChunkBytes: config.chunker.maxChunkBytes)
    }

    // MARK: - Sealed objects (index segments, snapshots)

    func saveSealed(_ payload: [UInt8], kind: ObjectKind, dataKey: DataKey) async throws -> ObjectName {
        let sealed = SealedObject.seal(payload, kind: kind, dataKey: dataKey, zstd: zstd)
        let name = ObjectName(kind, Digest256.sha256(sealed).hex)
        try await backend.write(name, bytes: sealed)
        return name
    }

    package func loadSealed(_ name: ObjectName) async throws -> [UInt8] {
        let sealed = try await backend.read(name)
        guard Digest256.sha256(sealed).hex == name.name else {
            throw RepositoryError.damaged(name, reason: "its SHA-256 does not match its name")
        }
        let key = try await dataKeyRefreshing(try SealedObject.keyID(of: sealed, name: name))
        return try SealedObject.open(sealed, name: name, dataKey: key, zstd: zstd)
    }
}

extension Digest256 {
    /// The 32 bytes as a tuple, for additional data without an allocation.
    var bytesTuple: (UInt64, UInt64, UInt64, UInt64) { (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian) }
}
