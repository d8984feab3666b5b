import Foundation
import Synchronization

/// The data keys of one open repository (DESIGN §3: one per backup run, sealed under the
/// master key in `datakeys/`).
///
/// Other processes (backup runs, `wal push`) add keys while a repository is held open,
/// so the ring reads the key files it has not read yet whenever asked to, and looks once
/// more for a key it is asked for and lacks; a key looked for in vain is remembered, so
/// that asking again does not list the location again.
///
/// Copies of WAL data keys may also be sealed under a WAL key-encryption key (a data key of
/// purpose ``DataKey/walKeyEncryptionPurpose``): the ring opens them with it once it holds
/// it. A ring opened through a WAL-only key file holds that key alone, in place of the
/// master key: it opens those copies and nothing else, and makes only WAL data keys.
final class DataKeyRing: Sendable {
    let backend: any StorageBackend
    let masterKey: MasterKey
    /// Set when the ring was opened through a WAL-only key file: then `masterKey` is not the
    /// repository's and is never used.
    let walOnlyKey: DataKey?
    private let keys = Mutex<[DataKeyID: DataKey]>([:])
    /// The data key files read so far: a refresh reads only the ones written since.
    private let filesRead = Mutex<Set<ObjectName>>([])
    /// Keys a refresh did not find.
    private let absent = Mutex<Set<DataKeyID>>([])
    /// WAL data keys with a copy sealed under a WAL key-encryption key: only those were made
    /// as WAL keys while one existed, since only a holder of that key could seal the copy.
    private let walCopies = Mutex<Set<DataKeyID>>([])

    init(backend: any StorageBackend, masterKey: MasterKey, walOnlyKey: DataKey? = nil) {
        self.backend = backend
        self.masterKey = masterKey
        self.walOnlyKey = walOnlyKey
        if let walOnlyKey { keys.withLock { $0[walOnlyKey.id] = walOnlyKey } }
    }

    /// A data key file is a few hundred bytes: a larger one is not read (a hostile location
    /// must not make a reader allocate what it likes).
    static let maxFileBytes = 64 << 10

    /// Reads and opens the key files written since the last call.
    func load() async throws {
        let known = filesRead.withLock { $0 }
        var read: [ObjectName] = []
        var files: [(ObjectName, DataKeyFile?)] = []
        for info in try await backend.list(.dataKeys) where !known.contains(info.name) {
            read.append(info.name)
            // A damaged data key file costs only the objects sealed with it: they are reported
            // as such (dataKeyMissing) when used, and `check` names them.
            guard let bytes = try? await readFile(info) else { continue }
            files.append((info.name, decode(bytes, name: info.name)))
        }
        var loaded: [DataKeyID: DataKey] = [:]
        // After an interrupted rotation two files may hold one id: keep the one that opens.
        for (_, key) in open(files) { if let key { loaded[key.id] = key } }
        remember(loaded, files: read)
    }

    /// One data key file as ``readAll()`` found it.
    struct FileReading: Sendable {
        let name: ObjectName
        /// The key the file opens to; nil when it is damaged or not sealed under this master key.
        let key: DataKey?
    }

    /// Lists and reads every data key file afresh, not only those not read yet, and tells
    /// which key each one opens to: `key rotate` re-seals exactly these, and deletes no
    /// file it has not re-sealed. A file that vanished meanwhile is left out.
    /// - Throws: a storage error when the location cannot be listed or a file cannot be read.
    func readAll() async throws -> [FileReading] {
        var files: [(ObjectName, DataKeyFile?)] = []
        for info in try await backend.list(.dataKeys) {
            let bytes: [UInt8]
            do {
                bytes = try await readFile(info)
            } catch StorageError.objectNotFound {
                continue
            } catch is RepositoryError {
                files.append((info.name, nil))
                continue
            }
            files.append((info.name, decode(bytes, name: info.name)))
        }
        let out = open(files).map { FileReading(name: $0.0, key: $0.1) }
        var loaded: [DataKeyID: DataKey] = [:]
        for r in out { if let key = r.key { loaded[key.id] = key } }
        remember(loaded, files: out.map(\.name))
        return out
    }

    private func readFile(_ info: ObjectInfo) async throws -> [UInt8] {
        guard info.sizeBytes <= Self.maxFileBytes else {
            throw RepositoryError.damaged(info.name, reason: "\(info.sizeBytes) bytes, more than a data key file ever holds")
        }
        let bytes = try await backend.read(info.name)
        guard bytes.count <= Self.maxFileBytes else {
            throw RepositoryError.damaged(info.name, reason: "\(bytes.count) bytes, more than a data key file ever holds")
        }
        return bytes
    }

    private func decode(_ bytes: [UInt8], name: ObjectName) -> DataKeyFile? {
        // A damaged file: the caller treats it as one that does not open.
        try? JSONCoding.decode(DataKeyFile.self, from: bytes, what: name.path)
    }

    /// Opens what it can of `files`: those sealed under the master key first, then the copies
    /// sealed under a WAL key-encryption key, which may be among the first.
    private func open(_ files: [(ObjectName, DataKeyFile?)]) -> [(ObjectName, DataKey?)] {
        var keyEncryptionKeys = keys.withLock { $0.filter { $0.value.purpose == DataKey.walKeyEncryptionPurpose } }
        var out: [ObjectName: DataKey?] = [:]
        for (name, file) in files {
            guard let file, file.sealedUnder == nil, walOnlyKey == nil else { continue }
            // Sealed under another master key, or damaged: it does not open.
            let key = try? file.open(with: masterKey)
            out[name] = key
            if let key, key.purpose == DataKey.walKeyEncryptionPurpose { keyEncryptionKeys[key.id] = key }
        }
        var copies = Set<DataKeyID>()
        for (name, file) in files {
            guard let file, let under = file.sealedUnder else { continue }
            // A copy under a WAL key-encryption key this ring does not hold does not open.
            let key = keyEncryptionKeys[under].flatMap { try? file.open(withKeyEncryptionKey: $0.key) }
            out[name] = key
            if let key { copies.insert(key.id) }
        }
        walCopies.withLock { $0.formUnion(copies) }
        return files.map { ($0.0, out[$0.0] ?? nil) }
    }

    private func remember(_ loaded: [DataKeyID: DataKey], files: [ObjectName]) {
        keys.withLock { $0.merge(loaded) { a, _ in a } }
        filesRead.withLock { $0.formUnion(files) }
        if !loaded.isEmpty { absent.withLock { $0.subtract(loaded.keys) } }
    }

    /// Makes, seals and stores a fresh data key. A WAL data key gets a copy sealed under each
    /// WAL key-encryption key the ring holds, written first: a WAL-only key must open every
    /// key that seals an archived object.
    /// - Throws: ``CryptoError/walOnlyKey`` for a key of another purpose in a WAL-only ring;
    ///   a storage error.
    func create(now: Date, purpose: String?) async throws -> DataKey {
        guard walOnlyKey == nil || purpose == DataKey.walPurpose else { throw CryptoError.walOnlyKey }
        var key = DataKey.generate(purpose: purpose)
        key.created = now
        if purpose == DataKey.walPurpose {
            for kek in all where kek.purpose == DataKey.walKeyEncryptionPurpose {
                let copy = JSONCoding.encode(DataKeyFile.seal(key, underWalKEK: kek, created: now))
                try await backend.write(ObjectName(.dataKeys, Digest256.sha256(copy)), bytes: copy)
            }
        }
        if walOnlyKey == nil {
            let bytes = JSONCoding.encode(DataKeyFile.seal(key, under: masterKey, created: now))
            try await backend.write(ObjectName(.dataKeys, Digest256.sha256(bytes)), bytes: bytes)
        }
        keys.withLock { $0[key.id] = key }
        if purpose == DataKey.walPurpose && hasWalKeyEncryptionKey { walCopies.withLock { _ = $0.insert(key.id) } }
        return key
    }

    /// Whether the ring holds a WAL key-encryption key (the repository has WAL-only keys).
    var hasWalKeyEncryptionKey: Bool { all.contains { $0.purpose == DataKey.walKeyEncryptionPurpose } }

    /// Whether `key` may seal archived WAL: any WAL data key, but once WAL-only keys exist
    /// only one with a copy under the WAL key-encryption key, which a WAL-only key opens.
    /// A key's purpose is plaintext that the storage can change; a copy under that key can
    /// only have been sealed by a holder of it, so no other data key gains a copy this way.
    func isUsableForWal(_ key: DataKey) -> Bool {
        guard key.purpose == DataKey.walPurpose else { return false }
        return !hasWalKeyEncryptionKey || walCopies.withLock { $0.contains(key.id) }
    }

    var all: [DataKey] { keys.withLock { Array($0.values) } }

    func key(_ id: DataKeyID) throws -> DataKey {
        guard let key = keys.withLock({ $0[id] }) else { throw RepositoryError.dataKeyMissing(id) }
        return key
    }

    /// As ``key(_:)``, but a key not read yet is looked for once more in the location.
    func keyRefreshing(_ id: DataKeyID) async throws -> DataKey {
        if let key = keys.withLock({ $0[id] }) { return key }
        if !absent.withLock({ $0.contains(id) }) {
            try await load()
            if let key = keys.withLock({ $0[id] }) { return key }
            absent.withLock { _ = $0.insert(id) }
        }
        throw RepositoryError.dataKeyMissing(id)
    }
}
