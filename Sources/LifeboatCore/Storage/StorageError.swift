/// Failures of a storage location. Messages name the object and the location and say
/// what to do; the OS error stays in the case for logs.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    case locationNotFound(location: String)
    case objectNotFound(ObjectName, location: String)
    case alreadyExists(ObjectName, location: String)
    case truncated(ObjectName, location: String)
    /// What was being written: an object's path, or a staged object's temporary file.
    case noSpace(String, location: String)
    case readOnly(location: String)
    case permissionDenied(String, location: String)
    /// A failure worth retrying (network, 5xx); the only case a retrying backend retries.
    case transient(String, location: String)
    case io(String, errno: Int32, location: String)
    /// A name that is not valid for its kind (``ObjectName``): never used as a path or key.
    case invalidName(ObjectKind, String, reason: String)
    /// A symbolic link (or another non-folder) where a local location must have a folder
    /// or a file of its own: links are never followed below a location's root.
    case notOwnFile(String, what: String, location: String)
    /// An answer (or a local object) larger than the request can justify: a hostile or
    /// broken server, a planted sparse file.
    case oversizedAnswer(String, limitBytes: Int, location: String)

    public var description: String {
        switch self {
        case .locationNotFound(let l):
            return "storage location \(l) does not exist: check its path, or initialize a repository there first"
        case .objectNotFound(let n, let l):
            return "object \(n) is missing from \(l)"
        case .alreadyExists(let n, let l):
            return "object \(n) already exists in \(l) and objects are never overwritten"
        case .truncated(let n, let l):
            return "object \(n) in \(l) is shorter than its index says: it is damaged; check the repository reading all its data, and restore the object from another location"
        case .noSpace(let n, let l):
            return "no space left on \(l) while writing \(n): free space or use another location; nothing was committed"
        case .readOnly(let l):
            return "storage location \(l) is read-only: remount it writable or use another location"
        case .permissionDenied(let what, let l):
            return "permission denied on \(what) in \(l): check the owner and mode of the repository directory"
        case .transient(let what, let l):
            return "temporary failure on \(l): \(what)"
        case .io(let what, let e, let l):
            return "I/O error on \(l): \(what): \(String(cString: strerror(e)))"
        case .invalidName(let kind, let name, let reason):
            return "'\(ObjectName.escaped(name.utf8))' is not a valid name for a \(kind.rawValue) object (\(reason)): it is not used"
        case .notOwnFile(let path, let what, let l):
            return "\(ObjectName.escaped(path.utf8)) in \(l) is \(what), and Lifeboat follows no link inside a location: replace it with a plain folder or file of the location's own"
        case .oversizedAnswer(let what, let limit, let l):
            return "\(l) offers more than \(limit) bytes for \(what), more than the request can justify: nothing of it was used; check the location"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
