/// Failures of the PostgreSQL source, of WAL-based backups and of PostgreSQL restores.
public enum PostgreSQLSourceError: Error, Sendable, CustomStringConvertible {
    case cannotConnect(String, String)
    case queryFailed(String, String)
    case preCheckFailed(String)
    /// archive_mode is not on: no WAL reaches any repository, so no base backup can be complete.
    case archivingOff(mode: String)
    case inRecovery(String)
    case dataDirectoryMismatch(given: String, server: String)
    case dataDirectoryUnreadable(String)
    case tablespacesUnsupported([String])
    case unexpectedAnswer(String, String)
    case walNotArchived(missing: [String], location: String)
    case noBaseBackup(String)
    case notAPostgreSQLSnapshot(String)
    case targetNotEmpty(String)
    case targetBeforeBackupEnd(String, backupEnd: String)
    case targetBeyondArchive(String, archiveEnd: String)
    case serverFailedToStart(String, log: String)
    case recoveryTimeout(String, seconds: Int)
    case needsPasswordFile
    case runsAsRoot(String)
    /// `wal push` from a data directory that restore-db or a restoration test marked as a copy.
    case sideCopyMustNotArchive(marker: String)
    /// A path pg_ctl would mangle: it passes paths to a shell inside double quotes.
    case pathUnsafeForServer(String)
    /// A `--timeline` whose history does not run through the base backup's timeline.
    case timelineNotFromBase(String, baseTimeline: UInt32)
    /// A PG_VERSION that is not a version number.
    case unknownVersion(String, String)

    public var description: String {
        switch self {
        case .cannotConnect(let url, let m):
            return "cannot connect to PostgreSQL at \(url): \(m)"
        case .queryFailed(let sql, let m):
            return "PostgreSQL refused \(sql.prefix(80)): \(m)"
        case .preCheckFailed(let reason):
            return "the pre-backup check failed: \(reason); nothing was backed up"
        case .archivingOff(let mode):
            return "the pre-backup check failed: archive_mode is \(mode): set archive_mode = on and an archive_command that pushes WAL into this repository, then restart the server; nothing was backed up"
        case .inRecovery(let url):
            return "\(url) is a standby (in recovery): back up the primary"
        case .dataDirectoryMismatch(let given, let server):
            return "\(given) is not the server's data directory (\(server)): name the directory of the cluster the URL connects to"
        case .dataDirectoryUnreadable(let dir):
            return "cannot read the data directory \(dir): back up as the database's OS user (e.g. postgres), or name the data directory as this host sees it"
        case .tablespacesUnsupported(let names):
            return "the cluster has tablespaces outside its data directory (\(names.joined(separator: ", "))), which this version does not back up"
        case .unexpectedAnswer(let what, let answer):
            return "PostgreSQL answered \(what) with '\(answer.prefix(100))', which lifeboat does not understand"
        case .walNotArchived(let missing, let l):
            let shown = missing.prefix(3).joined(separator: ", ") + (missing.count > 3 ? " and \(missing.count - 3) more" : "")
            return "the WAL this backup needs is not archived in \(l) (\(shown)): the server's archive_command must push WAL into this repository"
        case .noBaseBackup(let source):
            return "no base backup of \(source) in the repository: take a FULL backup first"
        case .notAPostgreSQLSnapshot(let s):
            return "snapshot \(s) is not a PostgreSQL backup: restore it as files, or as a SQLite database if it is one"
        case .targetNotEmpty(let dir):
            return "\(dir) exists and is not empty: restore into a new or empty directory"
        case .targetBeforeBackupEnd(let target, let end):
            return "the recovery target \(target) lies before the end of the chosen base backup (\(end)): choose an older base backup or a later target"
        case .targetBeyondArchive(let target, let end):
            return "the recovery target \(target) lies beyond the archived WAL (which ends at \(end)): choose an earlier target, or archive more WAL first"
        case .serverFailedToStart(let dir, let log):
            return "PostgreSQL did not start on \(dir); its log ends with: \(log)"
        case .recoveryTimeout(let dir, let s):
            return "recovery of \(dir) did not finish within \(s) s"
        case .needsPasswordFile:
            return "the restored cluster fetches WAL through a restore_command that reads the repository's passphrase from a file: give the passphrase as a file"
        case .runsAsRoot(let dir):
            return "\(dir) belongs to root, and PostgreSQL refuses to run as root: restore it as the database's OS user"
        case .sideCopyMustNotArchive(let marker):
            return "refusing to archive WAL from a cluster restored as a copy beside production (\(marker)): its timeline must not enter production's repository; if this cluster is production now, delete that file"
        case .pathUnsafeForServer(let path):
            return "\(path) holds a character that pg_ctl's shell does not take as it is (\", \\, $, ` or a line break): choose a path without them"
        case .timelineNotFromBase(let timeline, let base):
            return "timeline \(timeline) does not descend from the base backup's timeline \(base) past its end: choose another --timeline or another base backup"
        case .unknownVersion(let dir, let text):
            return "\(dir)/PG_VERSION says '\(text.prefix(20))', not a PostgreSQL version: this is not a data directory lifeboat can start"
        }
    }
}

extension PostgreSQLSourceError: SaysNothingWasWritten {
    /// The server checks' failures say "nothing was backed up" themselves.
    public var saysNothingWasWritten: Bool {
        switch self {
        case .preCheckFailed, .archivingOff: return true
        default: return false
        }
    }
}
