/// Failures at the repository level: format, keys, missing or damaged objects, locks.
public enum RepositoryError: Error, Sendable, CustomStringConvertible {
    case notARepository(location: String)
    case alreadyInitialized(location: String)
    case unsupportedVersion(Int, location: String)
    case noKeys(location: String)
    /// Key files exist but none can be tried: each reason names its file.
    case noUsableKeys([String], location: String)
    case dataKeyMissing(DataKeyID)
    case blobNotInIndex(BlobID)
    case damaged(ObjectName, reason: String)
    /// A JSON object (config, key file, tree, snapshot) that does not decode.
    case undecodable(what: String, reason: String)
    case invalidConfig(String, location: String)
    case snapshotNotFound(String)
    /// A path that the snapshot's tree does not hold (`dump`, a database's file).
    case pathNotInSnapshot(String)
    case ambiguousSnapshot(String, candidates: Int)
    /// "The newest snapshot" was asked for, but some snapshots are damaged, and any of them
    /// may be newer than the newest intact one.
    case damagedSnapshotsSkipped([String], newestIntact: String?)
    case locked(by: String, location: String)
    /// The lock an operation held was removed or replaced (judged stale by another
    /// process), or had expired before it could be refreshed: a prune may have run meanwhile.
    case lockLost(reason: String, location: String)
    case storage(StorageError)
    case crypto(CryptoError)

    public var description: String {
        switch self {
        case .notARepository(let l):
            return "\(l) holds no Lifeboat repository (no config object): check the location, or initialize a repository there"
        case .alreadyInitialized(let l):
            return "\(l) already holds a repository: choose an empty location"
        case .unsupportedVersion(let v, let l):
            return "the repository in \(l) has format version \(v), which this lifeboat cannot read: upgrade lifeboat"
        case .noKeys(let l):
            return "the repository in \(l) has no key files: restore keys/ from another copy of it"
        case .noUsableKeys(let reasons, let l):
            return "no key file of the repository in \(l) can be tried (\(reasons.joined(separator: "; "))): restore keys/ from another copy of it"
        case .dataKeyMissing(let id):
            return "data key \(id.shortHex) is missing from datakeys/: restore it from another location"
        case .blobNotInIndex(let id):
            return "blob \(id.shortHex) is referenced but not in the index: check the repository to find what it affects"
        case .damaged(let name, let reason):
            return "object \(name) is damaged (\(reason)): check the repository reading all its data, and restore the object from another location"
        case .undecodable(let what, let reason):
            return "\(what) cannot be decoded (\(reason)): it is damaged; check the repository and restore it from another location"
        case .invalidConfig(let reason, let l):
            return "the config of the repository in \(l) is invalid (\(reason)): restore it from another copy"
        case .snapshotNotFound(let s):
            return "no snapshot matches '\(s)': give a prefix of an existing snapshot's id, or latest"
        case .pathNotInSnapshot(let p):
            return "\(p) is not in the snapshot: give the absolute path the backup recorded"
        case .ambiguousSnapshot(let s, let n):
            return "'\(s)' matches \(n) snapshots: give more digits of the id"
        case .damagedSnapshotsSkipped(let damaged, let newest):
            let intact = newest.map { "the newest intact one is \($0)" } ?? "no snapshot is intact"
            return "\(damaged.count) snapshot\(damaged.count == 1 ? " is" : "s are") damaged and may be newer than any other, so the newest snapshot is not known (\(damaged.joined(separator: "; "))); \(intact): restore the damaged snapshots from another location, or ask explicitly for the newest intact one"
        case .locked(let by, let l):
            return "the repository in \(l) is locked by \(by): wait for it to finish, or remove the lock once that process is surely gone"
        case .lockLost(let reason, let l):
            return "the lock on the repository in \(l) was lost (\(reason)), so a prune may have run meanwhile: the operation stopped; check the repository, then run it again"
        case .storage(let e):
            return e.description
        case .crypto(let e):
            return e.description
        }
    }
}
