import Foundation
import Synchronization

/// The data keys of one open repository (DESIGN §3: one per backup run, sealed under the
/// master key in `datakeys/`).
///
/// Other processes (backup runs, `wal push`) add keys while a repository is held open,
/// so the ring reads the key files it has not read yet whenever asked to, and looks once
/// more for a key it is asked for and lacks; a key looked for in vain is remembered, so
/// that asking again does not list the location again.
final class DataKeyRing: Sendable {
    let backend: any StorageBackend
    let masterKey: MasterKey
    private let keys = Mutex<[DataKeyID: DataKey]>([:])
    /// The data key files read so far: a refresh reads only the ones written since.
    private let filesRead = Mutex<Set<ObjectName>>([])
    /// Keys a refresh did not find.
    private let absent = Mutex<Set<DataKeyID>>([])

    init(backend: any StorageBackend, masterKey: MasterKey) {
        self.backend = backend
        self.masterKey = masterKey
    }

    /// A data key file is a few hundred bytes: a larger one is not read (a hostile location
    /// must not make a reader allocate what it likes).
    static let maxFileBytes = 64 << 10

    /// Reads and opens the key files written since the last call.
    func load() async throws {
        var loaded: [DataKeyID: DataKey] = [:]
        let known = filesRead.withLock { $0 }
        var read: [ObjectName] = []
        for info in try await backend.list(.dataKeys) where !known.contains(info.name) {
            read.append(info.name)
            // A damaged data key file costs only the objects sealed with it: they are reported
            // as such (dataKeyMissing) when used, and `check` names them.
            guard let bytes = try? await readFile(info) else { continue }
            // After an interrupted rotation two files may hold one id: keep the one that opens.
            if let key = open(bytes, name: info.name) { loaded[key.id] = key }
        }
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
        var out: [FileReading] = []
        for info in try await backend.list(.dataKeys) {
            let bytes: [UInt8]
            do {
                bytes = try await readFile(info)
            } catch StorageError.objectNotFound {
                continue
            } catch is RepositoryError {
                out.append(FileReading(name: info.name, key: nil))
                continue
            }
            out.append(FileReading(name: info.name, key: open(bytes, name: info.name)))
        }
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

    private func open(_ bytes: [UInt8], name: ObjectName) -> DataKey? {
        // Damaged or sealed under another master key: the caller treats both as a file that does not open.
        guard let file = try? JSONCoding.decode(DataKeyFile.self, from: bytes, what: name.path) else { return nil }
        return try? file.open(with: masterKey)
    }

    private func remember(_ loaded: [DataKeyID: DataKey], files: [ObjectName]) {
        keys.withLock { $0.merge(loaded) { a, _ in a } }
        filesRead.withLock { $0.formUnion(files) }
        if !loaded.isEmpty { absent.withLock { $0.subtract(loaded.keys) } }
    }

    /// Makes, seals and stores a fresh data key.
    func create(now: Date, purpose: String?) async throws -> DataKey {
        var key = DataKey.generate(purpose: purpose)
        key.created = now
        let bytes = JSONCoding.encode(DataKeyFile.seal(key, under: masterKey, created: now))
        try await backend.write(ObjectName(.dataKeys, Digest256.sha256(bytes).hex), bytes: bytes)
        keys.withLock { $0[key.id] = key }
        return key
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
