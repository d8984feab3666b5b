@preconcurrency import Crypto
import Foundation
import Synchronization

/// An open repository in one storage location: its config, its unlocked keys, and the
/// reading side of the format (index, blobs, trees, snapshots).
///
/// Writing new blobs goes through a ``BlobWriter`` made for one backup run.
public final class Repository: Sendable {
    public let backend: any StorageBackend
    public let config: RepositoryConfig
    public let masterKey: MasterKey
    let zstd: Zstd
    private let dataKeys: Mutex<[DataKeyID: DataKey]>
    /// The data key files read so far: a refresh reads only the ones written since.
    private let dataKeyFilesRead = Mutex<Set<ObjectName>>([])
    /// Keys a refresh did not find: asking again does not list the location again.
    private let dataKeysAbsent = Mutex<Set<DataKeyID>>([])
    /// The key file the passphrase opened (nil right after `init`, which wrote the first one).
    public let keyName: ObjectName?

    public var location: String { backend.locationDescription }

    private init(backend: any StorageBackend, config: RepositoryConfig, masterKey: MasterKey, dataKeys: [DataKeyID: DataKey], keyName: ObjectName?) {
        self.backend = backend
        self.keyName = keyName
        self.config = config
        self.masterKey = masterKey
        self.zstd = Zstd(level: 3)
        self.dataKeys = Mutex(dataKeys)
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
        return Repository(backend: backend, config: config, masterKey: master, dataKeys: [:], keyName: keyName)
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
        let repo = Repository(backend: backend, config: config, masterKey: master, dataKeys: [:], keyName: opened)
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
    public func refreshDataKeys() async throws {
        try await loadDataKeys()
    }

    func loadDataKeys() async throws {
        var loaded: [DataKeyID: DataKey] = [:]
        let known = dataKeyFilesRead.withLock { $0 }
        var read: [ObjectName] = []
        for info in try await backend.list(.dataKeys) where !known.contains(info.name) {
            read.append(info.name)
            // A damaged data key file costs only the objects sealed with it: they are reported
            // as such (dataKeyMissing) when used, and `check` names them.
            guard let bytes = try? await backend.read(info.name),
                let file = try? JSONCoding.decode(DataKeyFile.self, from: bytes, what: info.name.path)
            else { continue }
            // After an interrupted rotation two files may hold one id: keep the one that opens.
            if let key = try? file.open(with: masterKey) { loaded[key.id] = key }
        }
        dataKeys.withLock { $0.merge(loaded) { a, _ in a } }
        dataKeyFilesRead.withLock { $0.formUnion(read) }
        if !loaded.isEmpty { dataKeysAbsent.withLock { $0.subtract(loaded.keys) } }
    }

    /// Makes, seals and stores a fresh data key for one backup run.
    func createDataKey(now: Date, purpose: String? = nil) async throws -> DataKey {
        var key = DataKey.generate(purpose: purpose)
        key.created = now
        let bytes = JSONCoding.encode(DataKeyFile.seal(key, under: masterKey, created: now))
        try await backend.write(ObjectName(.dataKeys, Digest256.sha256(bytes).hex), bytes: bytes)
        dataKeys.withLock { $0[key.id] = key }
        return key
    }

    /// Every data key this repository's master key opened.
    var allDataKeys: [DataKey] { dataKeys.withLock { Array($0.values) } }

    /// The same repository seen through another master key (after `key rotate`).
    func reopened(with master: MasterKey, keyName: ObjectName?) async throws -> Repository {
        let repo = Repository(backend: backend, config: config, masterKey: master, dataKeys: [:], keyName: keyName)
        try await repo.loadDataKeys()
        return repo
    }

    public func dataKey(_ id: DataKeyID) throws -> DataKey {
        guard let key = dataKeys.withLock({ $0[id] }) else { throw RepositoryError.dataKeyMissing(id) }
        return key
    }

    /// As ``dataKey(_:)``, but a key this process has not seen yet is looked for once more
    /// in the location (written by another process since this one opened it).
    func dataKeyRefreshing(_ id: DataKeyID) async throws -> DataKey {
        if let key = dataKeys.withLock({ $0[id] }) { return key }
        if !dataKeysAbsent.withLock({ $0.contains(id) }) {
            try await loadDataKeys()
            if let key = dataKeys.withLock({ $0[id] }) { return key }
            dataKeysAbsent.withLock { _ = $0.insert(id) }
        }
        throw RepositoryError.dataKeyMissing(id)
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

    func loadSealed(_ name: ObjectName) async throws -> [UInt8] {
        let sealed = try await backend.read(name)
        guard Digest256.sha256(sealed).hex == name.name else {
            throw RepositoryError.damaged(name, reason: "its SHA-256 does not match its name")
        }
        let key = try await dataKeyRefreshing(try SealedObject.keyID(of: sealed, name: name))
        return try SealedObject.open(sealed, name: name, dataKey: key, zstd: zstd)
    }

    // MARK: - Index

    /// Reads and merges every index segment. A damaged segment is left out and named in
    /// `problems`: its blobs count as absent, so a backup stores them again and a restore
    /// reports the files that need them, while everything else keeps working.
    public func loadIndex() async throws -> MasterIndex {
        var index = MasterIndex()
        for info in try await backend.list(.index) {
            do {
                index.add(try IndexSegment.decode(try await loadSealed(info.name), what: info.name.path))
            } catch let error as StorageError {
                throw error
            } catch {
                index.problems.append("index \(info.name.name): \(error)")
            }
        }
        return index
    }

    // MARK: - Blobs and trees

    /// Reads one blob, authenticates it and returns its plaintext.
    public func loadBlob(_ location: BlobLocation) async throws -> [UInt8] {
        let pack = ObjectName(.data, location.pack.hex)
        let sealed = try await backend.read(pack, offset: location.offset, length: location.sealedBytes)
        return try openBlob(sealed, location: location)
    }

    /// Authenticates and decompresses a sealed blob read from its pack.
    func openBlob(_ sealed: [UInt8], location: BlobLocation) throws -> [UInt8] {
        let key = try dataKey(location.dataKey)
        let pack = ObjectName(.data, location.pack.hex)
        let plain: Data
        do {
            plain = try sealed.withUnsafeBytes { (p) throws in
                try withUnsafeBytes(of: location.id.digest.bytesTuple) { (ad) throws in
                    try Sealing.open(p, key: key.key, additionalData: ad, what: "blob \(location.id.shortHex) in pack \(location.pack.shortHex)")
                }
            }
        } catch {
            throw RepositoryError.damaged(pack, reason: "\(error)")
        }
        guard location.isCompressed else {
            guard plain.count == location.plainBytes else { throw RepositoryError.damaged(pack, reason: "blob \(location.id.shortHex) has the wrong length") }
            return Array(plain)
        }
        do {
            return try plain.withUnsafeBytes { (p) throws in try zstd.decompress(p, plainBytes: location.plainBytes) }
        } catch {
            throw RepositoryError.damaged(pack, reason: "blob \(location.id.shortHex): \(error)")
        }
    }

    public func loadTree(_ id: BlobID, index: MasterIndex) async throws -> Tree {
        guard let location = index.location(of: id) else { throw RepositoryError.blobNotInIndex(id) }
        return try Tree.decode(try await loadBlob(location), id: id)
    }

    // MARK: - Snapshots

    public func loadSnapshot(_ id: SnapshotID) async throws -> Snapshot {
        let name = ObjectName(.snapshots, id.hex)
        return try JSONCoding.decode(Snapshot.self, from: try await loadSealed(name), what: name.path)
    }

    /// Every readable snapshot, oldest first, and a line for each one that is damaged
    /// (one damaged snapshot must not hide the others).
    public func listSnapshots() async throws -> (snapshots: [SnapshotEntry], damaged: [String]) {
        var out: [SnapshotEntry] = []
        var damaged: [String] = []
        for info in try await backend.list(.snapshots) {
            guard let id = SnapshotID(hex: info.name.name) else { continue }  // not ours: ignored, `check` reports it
            do {
                out.append(SnapshotEntry(id: id, snapshot: try await loadSnapshot(id)))
            } catch let error as StorageError {
                throw error
            } catch {
                damaged.append("snapshot \(id.shortHex): \(error)")
            }
        }
        return (out.sorted { ($0.snapshot.time, $0.id) < ($1.snapshot.time, $1.id) }, damaged)
    }

    /// Every readable snapshot, oldest first; `listSnapshots()` also names the damaged ones.
    public func snapshots() async throws -> [SnapshotEntry] {
        try await listSnapshots().snapshots
    }

    /// Resolves `latest` or a unique prefix of a snapshot id.
    public func findSnapshot(_ reference: String) async throws -> SnapshotEntry {
        let all = try await snapshots()
        if reference == "latest" {
            guard let last = all.last else { throw RepositoryError.snapshotNotFound(reference) }
            return last
        }
        let prefix = reference.lowercased()
        let matches = all.filter { $0.id.hex.hasPrefix(prefix) }
        guard !prefix.isEmpty, let first = matches.first else { throw RepositoryError.snapshotNotFound(reference) }
        guard matches.count == 1 else { throw RepositoryError.ambiguousSnapshot(reference, candidates: matches.count) }
        return first
    }

    func saveSnapshot(_ snapshot: Snapshot, dataKey: DataKey) async throws -> SnapshotID {
        let name = try await saveSealed(JSONCoding.encode(snapshot), kind: .snapshots, dataKey: dataKey)
        return SnapshotID(hex: name.name)!
    }
}

extension Digest256 {
    /// The 32 bytes as a tuple, for additional data without an allocation.
    var bytesTuple: (UInt64, UInt64, UInt64, UInt64) { (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian) }
}
