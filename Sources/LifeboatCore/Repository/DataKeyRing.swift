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

    /// Reads and opens the key files written since the last call.
    func load() async throws {
        var loaded: [DataKeyID: DataKey] = [:]
        let known = filesRead.withLock { $0 }
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
        keys.withLock { $0.merge(loaded) { a, _ in a } }
        filesRead.withLock { $0.formUnion(read) }
        if !loaded.isEmpty { absent.withLock { $0.subtract(loaded.keys) } }
    }

    /// Makes, seals and stores a fresh data key.
    func create(now: Date, purpose: String?) async throws -> DataKey {
        var key = DataKey.generate(purpose: purpose)
        key.created = now
        let bytes = JSONCoding.encode(DataKeyFile.seal(key, under: masterKey, created: now))
        try await backend.write(ObjectName(.dataKeys, Digest256.sha256(bytes)), bytes: bytes)
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
