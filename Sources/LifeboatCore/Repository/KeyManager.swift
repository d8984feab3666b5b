@preconcurrency import Crypto
import Foundation

/// `lifeboat key list | add | remove | passwd | rotate`: the passphrases of a repository
/// and its master key.
///
/// Every passphrase has its own key file sealing the same master key. `rotate` makes a new
/// master key: a new key-encryption key (the blob-ID key is kept, or every blob id would
/// change and nothing would deduplicate) and re-seals every data key under it; no pack,
/// index or snapshot is rewritten. It runs under the exclusive lock and writes before it
/// deletes: new data key files, the new key file, then the old key files and data key
/// files go. Other passphrases stop working after a rotation: they held the old master
/// key, which is exactly what rotation retires.
public struct KeyManager: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    public struct KeyInfo: Sendable {
        public let name: ObjectName
        public let created: Date
        public let host: String
        public let username: String
        public let isCurrent: Bool
    }

    public func list() async throws -> [KeyInfo] {
        var out: [KeyInfo] = []
        for info in try await repository.backend.list(.keys) {
            let file = try JSONCoding.decode(KeyFile.self, from: try await repository.backend.read(info.name), what: info.name.path)
            out.append(KeyInfo(name: info.name, created: file.created, host: file.host, username: file.username, isCurrent: info.name == repository.keyName))
        }
        return out.sorted { $0.created < $1.created }
    }

    /// Adds a passphrase; returns the new key file's name.
    @discardableResult
    public func add(passphrase: String, kdf: KDFParameters = .standard, host: String, username: String) async throws -> ObjectName {
        let file = try KeyFile.make(masterKey: repository.masterKey, passphrase: passphrase, parameters: kdf, host: host, username: username, created: Date())
        return try await Repository.writeKeyFile(file, to: repository.backend)
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
    }

    /// Makes a new master key and re-seals every data key under it.
    public func rotate(passphrase: String, kdf: KDFParameters = .standard, host: String, username: String) async throws -> RotationReport {
        try await RepositoryLock.withLock(repository, exclusive: true, host: host, username: username) {
            let backend = repository.backend
            let oldKeyFiles = try await backend.list(.keys).map(\.name)
            let oldDataKeyFiles = try await backend.list(.dataKeys).map(\.name)
            let master = MasterKey(keyEncryptionKey: .init(size: .bits256), blobIDKey: repository.masterKey.blobIDKey)
            let dataKeys = repository.allDataKeys
            for key in dataKeys {
                let bytes = JSONCoding.encode(DataKeyFile.seal(key, under: master, created: key.created ?? Date()))
                try await backend.write(ObjectName(.dataKeys, Digest256.sha256(bytes).hex), bytes: bytes)
            }
            let file = try KeyFile.make(masterKey: master, passphrase: passphrase, parameters: kdf, host: host, username: username, created: Date())
            let newKey = try await Repository.writeKeyFile(file, to: backend)
            for name in oldKeyFiles { try await backend.delete(name) }
            for name in oldDataKeyFiles { try await backend.delete(name) }
            return RotationReport(dataKeysResealed: dataKeys.count, keyFilesRetired: oldKeyFiles.count, newKey: newKey)
        }
    }
}

public enum KeyError: Error, Sendable, CustomStringConvertible {
    case notFound(String)
    case ambiguous(String, Int)
    case inUse
    case lastKey

    public var description: String {
        switch self {
        case .notFound(let p): return "no key file starts with '\(p)': list them with 'lifeboat key list'"
        case .ambiguous(let p, let n): return "'\(p)' matches \(n) key files: give more digits"
        case .inUse: return "that key is the one in use: open the repository with another passphrase to remove it, or use 'key passwd'"
        case .lastKey: return "that is the only key: removing it would make the repository unreadable"
        }
    }
}
