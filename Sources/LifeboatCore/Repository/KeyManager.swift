import Synchronization
@preconcurrency import Crypto
import Foundation

/// `lifeboat key list | add | remove | passwd | rotate`: the passphrases of a repository
/// and its master key.
///
/// Every passphrase has its own key file sealing the same master key. `rotate` makes a new
/// master key: a new key-encryption key (the blob-ID key is kept, or every blob id would
/// change and nothing would deduplicate) and re-seals every data key under it; no pack,
/// index or snapshot is rewritten. It runs under the exclusive lock, reads `datakeys/`
/// afresh under it, and writes before it deletes: new data key files, the new key file,
/// then the old key files and the old copies of the data keys it re-sealed go, nothing
/// else. Other passphrases stop working after a rotation: they held the old master
/// key, which is exactly what rotation retires.
public struct KeyManager: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    public struct KeyInfo: Sendable, Encodable {
        public let name: ObjectName
        public let created: Date
        public let host: String
        public let username: String
        public let isCurrent: Bool
        /// A WAL-only key (`key add --wal-only`): it opens archived WAL and nothing else.
        public var isWalOnly = false

        enum CodingKeys: String, CodingKey { case id, created, host, username, current, walOnly }

        /// As `key list --json` shows it: the key file's name as `id`.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name.name, forKey: .id)
            try c.encode(created, forKey: .created)
            try c.encode(host, forKey: .host)
            try c.encode(username, forKey: .username)
            try c.encode(isCurrent, forKey: .current)
            try c.encode(isWalOnly, forKey: .walOnly)
        }
    }

    public func list() async throws -> [KeyInfo] {
        var out: [KeyInfo] = []
        for info in try await repository.backend.list(.keys) {
            guard info.sizeBytes <= Repository.maxKeyFileBytes else {
                throw RepositoryError.damaged(info.name, reason: "\(info.sizeBytes) bytes, more than a key file ever holds")
            }
            let file = try JSONCoding.decode(KeyFile.self, from: try await repository.backend.read(info.name), what: info.name.path)
            var key = KeyInfo(name: info.name, created: file.created, host: file.host, username: file.username, isCurrent: info.name == repository.keyName)
            key.isWalOnly = file.isWalOnly
            out.append(key)
        }
        return out.sorted { $0.created < $1.created }
    }

    /// Adds a passphrase; returns the new key file's name.
    @discardableResult
    public func add(passphrase: String, kdf: KDFParameters = .standard, host: String, username: String) async throws -> ObjectName {
        // A WAL-only repository's master key is a stand-in: sealing it would make a key that opens nothing.
        guard !repository.isWalOnly else { throw CryptoError.walOnlyKey }
        let file = try KeyFile.make(masterKey: repository.masterKey, passphrase: passphrase, parameters: kdf, host: host, username: username, created: Date())
        // Under a shared lock: a rotation (exclusive) running meanwhile would leave this file
        // sealing the master key it retires, a passphrase that opens no data key.
        let backend = repository.backend
        return try await RepositoryLock.withLock(repository, exclusive: false, host: host, username: username) {
            try await Repository.writeKeyFile(file, to: backend)
        }
    }

    /// Removes the key file whose name starts with `prefix`; never the one in use, never the last.
    public func remove(prefix: String) async throws -> ObjectName {
        let keys = try await repository.backend.list(.keys).map(\.name)
        let matches = keys.filter { $0.name.hasPrefix(prefix.lowercased()) }
        guard !prefix.isEmpty, let name = matches.first else { throw KeyError.notFound(prefix) }
        guard matches.count == 1 else { throw KeyError.ambiguous(prefix, matches.count) }
        guard name != repository.keyName else { throw KeyError.inUse }
        guard keys.count > 1 else { throw KeyError.lastKey }
        try await repository.backend.delete(name)
        return name
    }

    /// Adds a WAL-only passphrase: its key file seals the WAL key-encryption key, not the
    /// master key, so it opens the WAL data keys and nothing else (no backup's data key, no
    /// blob-ID key): what `archive_command` and `restore_command` need, and no more.
    ///
    /// Under the exclusive lock (so that no `wal push` makes a WAL data key meanwhile): the
    /// WAL key-encryption key is made if the repository has none (stored like a data key,
    /// sealed under the master key), then the key file is written. Existing WAL data keys get
    /// no copy under it: a key's purpose is plaintext the storage could have changed, so a
    /// copy could hand a backup's data key to the WAL-only key; WAL archived from then on is
    /// sealed with new WAL data keys that have one. Returns the key file's name.
    /// - Throws: ``CryptoError/walOnlyKey`` when this repository was itself opened WAL-only.
    @discardableResult
    public func addWalOnly(passphrase: String, kdf: KDFParameters = .standard, host: String, username: String) async throws -> ObjectName {
        guard !repository.isWalOnly else { throw CryptoError.walOnlyKey }
        let repository = self.repository
        return try await RepositoryLock.withLock(repository, exclusive: true, host: host, username: username) {
            try await repository.refreshDataKeys()
            let kek: DataKey
            if let existing = repository.allDataKeys.filter({ $0.purpose == DataKey.walKeyEncryptionPurpose }).min(by: { $0.id < $1.id }) {
                kek = existing
            } else {
                kek = try await repository.createDataKey(now: Date(), purpose: DataKey.walKeyEncryptionPurpose)
            }
            let file = try KeyFile.makeWalOnly(walKEK: kek, passphrase: passphrase, parameters: kdf, host: host, username: username, created: Date())
            return try await Repository.writeKeyFile(file, to: repository.backend)
        }
    }

    /// Replaces the passphrase in use: a key file for the new one, then the old one goes.
    public func changePassphrase(to passphrase: String, kdf: KDFParameters = .standard, host: String, username: String) async throws -> ObjectName {
        let added = try await add(passphrase: passphrase, kdf: kdf, host: host, username: username)
        if let current = repository.keyName { try await repository.backend.delete(current) }
        return added
    }

    public struct RotationReport: Sendable {
        public let dataKeysResealed: Int
        public let keyFilesRetired: Int
        public let newKey: ObjectName
        /// Data key files that did not open with the master key (damaged, or foreign), left in place.
        public var dataKeyFilesKept: [ObjectName] = []
        /// One entry per other location, in the order given.
        public var replicas: [ReplicaRotation] = []
    }

    /// What the rotation did at another location of the same repository.
    public struct ReplicaRotation: Sendable {
        public var location: String
        public var dataKeysResealed = 0
        public var keyFilesRetired = 0
        /// As ``RotationReport/dataKeyFilesKept``, at this location.
        public var dataKeyFilesKept: [ObjectName] = []
        /// Why the rotation is incomplete there: the old key files may still open it.
        public var error: String?

        public init(location: String, error: String? = nil) {
            self.location = location
            self.error = error
        }
    }

    /// Makes a new master key and re-seals every data key under it, here and at every
    /// replica (other locations holding a copy of this repository), so that the old master
    /// key opens nothing anywhere. Each location is done under its exclusive lock, new
    /// files first and old ones deleted last: an interrupted rotation leaves locations that
    /// both keys open. A replica that cannot be reached, or a write-once medium that
    /// refuses the deletes, is reported in ``RotationReport/replicas`` and does not stop
    /// the others. Data keys a replica holds that this location lacks are re-sealed too.
    public func rotate(
        passphrase: String, kdf: KDFParameters = .standard, host: String, username: String, replicas: [Repository] = []
    ) async throws -> RotationReport {
        guard !repository.isWalOnly else { throw CryptoError.walOnlyKey }
        let master = MasterKey(keyEncryptionKey: .init(size: .bits256), blobIDKey: repository.masterKey.blobIDKey)
        let file = try KeyFile.make(masterKey: master, passphrase: passphrase, parameters: kdf, host: host, username: username, created: Date())
        // One sealed file per data key, shared by every location: replication then finds it present.
        let sealed = SealedDataKeys()
        let here = try await Self.reseal(repository, under: master, keyFile: file, sealed: sealed, host: host, username: username)
        var report = RotationReport(dataKeysResealed: here.resealed, keyFilesRetired: here.retired, newKey: here.key, dataKeyFilesKept: here.kept)
        for replica in replicas {
            var outcome = ReplicaRotation(location: replica.backend.locationDescription)
            do {
                guard replica.config.id == repository.config.id else {
                    throw KeyError.otherRepository(replica.backend.locationDescription)
                }
                let done = try await Self.reseal(replica, under: master, keyFile: file, sealed: sealed, host: host, username: username)
                outcome.dataKeysResealed = done.resealed
                outcome.keyFilesRetired = done.retired
                outcome.dataKeyFilesKept = done.kept
            } catch {
                outcome.error = "\(error)"
            }
            report.replicas.append(outcome)
        }
        return report
    }

    private static func reseal(
        _ repository: Repository, under master: MasterKey, keyFile: KeyFile, sealed: SealedDataKeys, host: String, username: String
    ) async throws -> Resealing {
        try await RepositoryLock.withLock(repository, exclusive: true, host: host, username: username) {
            let backend = repository.backend
            let oldKeyFiles = try await backend.list(.keys).map(\.name)
            // Read afresh under the lock: a backup or `wal push` may have added keys since the
            // repository was opened, and no writer adds one while the exclusive lock is held.
            let files = try await repository.dataKeyRing.readAll()
            var dataKeys: [DataKeyID: DataKey] = [:]
            // Keys this process holds whose files have gone meanwhile are re-sealed too. The
            // WAL key-encryption key is not: its WAL-only key files are retired with the
            // others, and with it go the copies sealed under it (`key add --wal-only` makes a
            // new one).
            for key in repository.allDataKeys where key.purpose != DataKey.walKeyEncryptionPurpose { dataKeys[key.id] = key }
            var written = Set<ObjectName>()
            for key in dataKeys.values.sorted(by: { $0.id.hex < $1.id.hex }) {
                let bytes = sealed.files.withLock { cache in
                    if let b = cache[key.id] { return b }
                    let b = JSONCoding.encode(DataKeyFile.seal(key, under: master, created: key.created ?? Date()))
                    cache[key.id] = b
                    return b
                }
                let name = ObjectName(.dataKeys, Digest256.sha256(bytes))
                do {
                    try await backend.write(name, bytes: bytes)
                } catch StorageError.alreadyExists {
                    // The same sealed file, from an earlier attempt or a replication.
                }
                written.insert(name)
            }
            let newKey: ObjectName
            do {
                newKey = try await Repository.writeKeyFile(keyFile, to: backend)
            } catch StorageError.alreadyExists {
                newKey = ObjectName(.keys, Digest256.sha256(JSONCoding.encode(keyFile)))
            }
            var retired = 0
            for name in oldKeyFiles where name != newKey {
                try await backend.delete(name)
                retired += 1
            }
            // Only the old sealed copies of keys just re-sealed go. A file that does not open
            // (damaged, or sealed under a master key this one is not) is left as it was: the
            // old master key cannot open it either, and what it holds may still be wanted.
            var kept: [ObjectName] = []
            for file in files where !written.contains(file.name) {
                if let key = file.key, dataKeys[key.id] != nil || key.purpose == DataKey.walKeyEncryptionPurpose {
                    try await backend.delete(file.name)
                } else {
                    kept.append(file.name)
                }
            }
            return Resealing(resealed: dataKeys.count, retired: retired, key: newKey, kept: kept)
        }
    }

    private struct Resealing: Sendable {
        var resealed: Int
        var retired: Int
        var key: ObjectName
        var kept: [ObjectName]
    }
}

/// The data key files of a rotation, sealed once and written at every location.
final class SealedDataKeys: Sendable {
    let files = Mutex<[DataKeyID: [UInt8]]>([:])
}

public enum KeyError: Error, Sendable, CustomStringConvertible {
    case notFound(String)
    case ambiguous(String, Int)
    case inUse
    case lastKey
    case otherRepository(String)

    public var description: String {
        switch self {
        case .notFound(let p): return "no key file starts with '\(p)': give a prefix of an existing key file's id"
        case .ambiguous(let p, let n): return "'\(p)' matches \(n) key files: give more digits"
        case .inUse: return "that key is the one in use: open the repository with another passphrase to remove it, or change its passphrase instead"
        case .lastKey: return "that is the only key: removing it would make the repository unreadable"
        case .otherRepository(let l): return "\(l) holds another repository: its keys are not rotated"
        }
    }
}
