/// Failures of the SQLite source and of database restores.
public enum SQLiteSourceError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(String, String)
    case failed(String, String, String)
    case notADatabase(String)
    case integrityCheckFailed(String, String)
    case targetExists(String)
    case targetInUse(String)
    case notASQLiteSnapshot(String)
    case rowCountsDiffer(String, [String])
    case restoredCopyFailsCheck(String, String)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let m): return "cannot open the SQLite database \(p): \(m)"
        case .failed(let p, let sql, let m): return "SQLite failed on \(p) (\(sql.prefix(60))): \(m)"
        case .notADatabase(let p): return "\(p) is not a SQLite database"
        case .integrityCheckFailed(let p, let r): return "the pre-backup integrity check of \(p) failed: \(r.prefix(300)); nothing was backed up"
        case .targetExists(let p): return "\(p) already exists: restore to another path, or ask for it to be replaced"
        case .targetInUse(let p): return "\(p) is open in another process: stop it first, or ask for it to be replaced anyway"
        case .notASQLiteSnapshot(let s): return "snapshot \(s) is not a SQLite backup: restore it as files"
        case .rowCountsDiffer(let p, let d): return "the restored database for \(p) does not match the snapshot's record (\(d.joined(separator: "; "))); the target was left untouched"
        case .restoredCopyFailsCheck(let p, let r): return "the restored database for \(p) fails integrity_check (\(r.prefix(200))); the target was left untouched"
        }
    }
}

extension SQLiteSourceError: SaysNothingWasWritten {
    /// The integrity check's failure says "nothing was backed up" itself.
    public var saysNothingWasWritten: Bool {
        if case .integrityCheckFailed = self { return true }
        return false
    }
}
