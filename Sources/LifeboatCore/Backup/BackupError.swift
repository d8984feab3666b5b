/// Failures that stop a backup as a whole. Problems with single files are not errors:
/// they become warnings in the snapshot and the result.
public enum BackupError: Error, Sendable, CustomStringConvertible {
    case noPaths
    case sourceNotFound(String)
    case relativePath(String)
    case readBackFailed([String])
    case preCheckFailed(String)
    /// A dry run reads a database's copy like its backup would, and for PostgreSQL starts a
    /// base backup on the server: it is offered for files only.
    case dryRunNotForDatabases(SourceKind)
    /// `--stdin-filename` must be one path component.
    case invalidStreamName(String)

    public var description: String {
        switch self {
        case .noPaths: return "nothing to back up: name at least one path"
        case .invalidStreamName(let n): return "'\(n)' cannot name the stream's file: give one name without '/' (such as dump.sql)"
        case .dryRunNotForDatabases(let kind): return "--dry-run is for backups of files, not of a \(kind.rawValue) database: leave it out"
        case .sourceNotFound(let p): return "\(p) does not exist: check the path"
        case .relativePath(let p): return "\(p) cannot be resolved to an absolute path"
        case .preCheckFailed(let why): return "the pre-backup check failed: \(why); nothing was written"
        case .readBackFailed(let errors):
            return "the post-backup read-back found damage (\(errors.prefix(3).joined(separator: "; "))): no snapshot was written; check the location's storage and run the backup again"
        }
    }
}

/// An error whose description already tells the user that the backup stopped before it
/// wrote anything (a source's own pre-check failure): the pipeline shows it as it is
/// instead of wrapping it in "the pre-backup check failed: …".
public protocol SaysNothingWasWritten: Error {
    var saysNothingWasWritten: Bool { get }
}

extension BackupError: SaysNothingWasWritten {
    /// Every case stands alone: a backup that has nothing to read, or whose check failed.
    public var saysNothingWasWritten: Bool { true }
}
