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
    /// Key files `open` did not try, one sentence each naming the file: too large, not
    /// JSON, or asking for key-derivation parameters beyond the caps. The caller shows them.
    public let keyFileWarnings: [String]

    public var location: String { backend.locationDescription }

    private init(
        backend: any StorageBackend, config: RepositoryConfig, masterKey: MasterKey, keyName: ObjectName?, keyFileWarnings: [String] = [],
        walOnlyKey: DataKey? = nil
    ) {
        self.backend = backend
        self.keyName = keyName
        self.keyFileWarnings = keyFileWarnings
        self.config = config
        self.masterKey = masterKey
        self.zstd = Zstd(level: 3)
        self.dataKeyRing = DataKeyRing(backend: backend, masterKey: masterKey, walOnlyKey: walOnlyKey)
    }

    /// The same repository, keys and all, over a ``DryRunBackend``: reads as before, writes
    /// only locks (`backup --dry-run`).
    public func discardingWrites() -> Repository {
        Repository(
            backend: DryRunBackend(backend), config: config, masterKey: masterKey, keyName: keyName, keyFileWarnings: keyFileWarnings,
            walOnlyKey: dataKeyRing.walOnlyKey)
    }

    /// What a passphrase may open the repository for.
    public enum Scope: Sendable {
        /// Everything: a WAL-only key file is refused (``CryptoError/walOnlyKey``).
        case full
        /// Archived WAL only (`wal push`, `wal fetch`, `wal list`): a WAL-only key file is
        /// accepted, and so is a full one.
        case walArchive
    }

    /// Whether the repository was opened through a WAL-only key file: it then holds the WAL
    /// data keys alone, and its ``masterKey`` is a stand-in that opens and names nothing.
    public var isWalOnly: Bool { dataKeyRing.walOnlyKey != nil }

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
        let name = ObjectName(.keys, Digest256.sha256(bytes))
        try await backend.write(name, bytes: bytes)
        return name
    }

    /// Opens the repository with a passphrase: reads `config`, finds the key file the
    /// passphrase opens, and unseals every data key.
    ///
    /// Key files come from storage, which may be hostile: one larger than ``maxKeyFileBytes``,
    /// one that does not decode and one whose key derivation exceeds the caps of
    /// ``KDFParameters`` are not tried (each is named in ``keyFileWarnings``); the others are
    /// tried cheapest first, so a planted costly file cannot delay the real one.
    ///
    /// - Throws: ``RepositoryError/notARepository(location:)``, ``CryptoError/wrongPassphrase``,
    ///   ``RepositoryError/unsupportedVersion(_:location:)``, ``RepositoryError/noUsableKeys(_:location:)``
    ///   when no key file can be tried, or a storage error.
    /// - Parameter scope: ``Scope/walArchive`` also accepts a WAL-only key file.
    public static func open(backend: any StorageBackend, passphrase: String, scope: Scope = .full) async throws -> Repository {
        let config = try await readConfig(backend)
        let keys = try await backend.list(.keys)
        guard !keys.isEmpty else { throw RepositoryError.noKeys(location: backend.locationDescription) }
        var candidates: [(name: ObjectName, file: KeyFile)] = []
        var warnings: [String] = []
        for key in keys {
            // One damaged or hostile key file must not lock out the passphrases of the others.
            if let problem = await keyFileProblem(key, backend: backend, candidates: &candidates) {
                warnings.append("key file \(key.name.path) \(problem): it was not tried; remove it if no passphrase needs it")
            }
        }
        candidates.sort { ($0.file.kdfParameters.workBytes, $0.name.name) < ($1.file.kdfParameters.workBytes, $1.name.name) }
        var master: MasterKey?
        var walOnlyKey: DataKey?
        var opened: ObjectName?
        var opensWalOnly = false
        for candidate in candidates {
            do {
                if candidate.file.isWalOnly && scope == .walArchive {
                    walOnlyKey = try candidate.file.openWalKEK(passphrase: passphrase)
                    // Never used: a WAL-only ring opens its keys with the WAL key-encryption key alone.
                    master = MasterKey.generate()
                } else {
                    master = try candidate.file.open(passphrase: passphrase)
                }
                opened = candidate.name
                break
            } catch CryptoError.wrongPassphrase {
                continue
            } catch CryptoError.walOnlyKey {
                // The passphrase is right for archived WAL only; a full key file may still follow.
                opensWalOnly = true
                continue
            }
        }
        guard let master else {
            if candidates.isEmpty { throw RepositoryError.noUsableKeys(warnings, location: backend.locationDescription) }
            throw opensWalOnly ? CryptoError.walOnlyKey : CryptoError.wrongPassphrase
        }
        let repo = Repository(
            backend: backend, config: config, masterKey: master, keyName: opened, keyFileWarnings: warnings, walOnlyKey: walOnlyKey)
        try await repo.loadDataKeys()
        return repo
    }

    /// A key file is a few hundred bytes; one far larger is not read.
    public static let maxKeyFileBytes = 64 << 10

    /// Reads one key file into `candidates`, or says in a few words why it cannot be tried.
    private static func keyFileProblem(
        _ info: ObjectInfo, backend: any StorageBackend, candidates: inout [(name: ObjectName, file: KeyFile)]
    ) async -> String? {
        guard info.sizeBytes <= maxKeyFileBytes else { return "is \(info.sizeBytes) bytes, more than a key file ever holds" }
        let bytes: [UInt8]
        do {
            bytes = try await backend.read(info.name)
        } catch {
            return "cannot be read (\(error))"
        }
        guard bytes.count <= maxKeyFileBytes else { return "is \(bytes.count) bytes, more than a key file ever holds" }
        let file: KeyFile
        do {
            file = try JSONCoding.decode(KeyFile.self, from: bytes, what: info.name.path)
        } catch {
            return "does not decode"
        }
        guard file.kdf == "scrypt" else { return "uses the key derivation '\(file.kdf)', which lifeboat does not know" }
        if let scope = file.scope, !file.isWalOnly { return "has the scope '\(scope)', which lifeboat does not know" }
        do {
            try file.kdfParameters.validate()
        } catch {
            let k = file.kdfParameters
            return "asks for scrypt N=\(k.n) r=\(k.r) p=\(k.p), beyond what lifeboat derives with (N ≤ 2^20, 128·N·r ≤ 1 GiB, 128·N·r·p ≤ 2 GiB)"
        }
        candidates.append((info.name, file))
        return nil
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
        let name = ObjectName(kind, Digest256.sha256(sealed))
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
