import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

/// The exit statuses scripts can rely on. Extended, never renumbered.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case partial = 3
    case noRepository = 10
    case locked = 11
    case wrongPassphrase = 12
    case verificationFailed = 13
    case usage = 64
    case interrupted = 130

    static let helpText = """
        Exit status: 0 success; 1 failure; 3 finished with warnings (files that could not be \
        read or restored; locations short of the 3-2-1-1-0 rule; run: a location's copy left pending; recover: a non-critical step failed or an RTO/RPO target was missed); 10 no repository at the \
        location; 11 repository locked; 12 wrong passphrase (or a WAL-only one for another verb); 13 verification failed (check, \
        verify, restore --verify, restore-db, restore-test, backup, run, airgap verify, audit verify; 'latest' while a snapshot is damaged); 64 usage error; 130 interrupted.
        """

    /// A recovery execution's end: 0 SUCCEEDED with its RTO and RPO met, 3 with warnings
    /// or a missed target, 1 FAILED or CANCELLED, 130 left INTERRUPTED.
    init(recovery record: RecoveryExecutionRecord) {
        let objectives = RecoveryObjectives(record: record)
        switch record.status {
        case .succeeded: self = objectives.isRTOMet == false || objectives.isRPOMet == false ? .partial : .success
        case .succeededWithWarnings: self = .partial
        case .interrupted, .pending, .running, .waitingApproval: self = .interrupted
        case .failed, .cancelled: self = .failure
        }
    }

    /// The status for an error of Lifeboat's; nil for argument-parser's own errors.
    init?(for error: any Error) {
        switch error {
        case let f as BackupPipeline.Failure:
            self = ExitStatus(for: f.underlying) ?? .failure
        case let e as RepositoryError:
            switch e {
            case .notARepository, .noKeys, .noUsableKeys: self = .noRepository
            case .locked: self = .locked
            case .damagedSnapshotsSkipped: self = .verificationFailed
            case .crypto(.wrongPassphrase): self = .wrongPassphrase
            case .storage(.locationNotFound): self = .noRepository
            default: self = .failure
            }
        case let e as CryptoError:
            self = e.isWrongPassphrase ? .wrongPassphrase : .failure
        case BackupJobError.alreadyRunning:
            self = .locked
        case BackupJobError.wrongPassphrase:
            self = .wrongPassphrase
        case let e as StorageError:
            if case .locationNotFound = e { self = .noRepository } else { self = .failure }
        case SQLiteSourceError.restoredCopyFailsCheck, SQLiteSourceError.rowCountsDiffer:
            self = .verificationFailed
        case is CancellationError, is BackupInterruption:
            self = .interrupted
        case is RestorationTestFailure, BackupError.readBackFailed, DumpError.sizeMismatch:
            self = .verificationFailed
        case is CLIError, is BackupError, is FileSystemError, is CompressionError, is KeyError, is PruneError, is SQLiteSourceError, is ReplicationError,
            is PostgreSQLSourceError, is WalArchiveError, is RestoreDatabaseError, is CatalogError, is ConfigurationError, is LocationError, is AirgapError,
            is DumpError, is ReadDataSubsetError, is BackupJobError, is RecoveryPlanError, is RecoveryError,
            is AccessError:
            self = .failure
        default:
            // Argument-parser's errors (usage, help) and anything unforeseen: it prints and exits 64 or 1.
            return nil
        }
    }

    static func message(for error: any Error) -> String {
        if error is CancellationError { return "interrupted: stopped cleanly, nothing half-written is left in the repository" }
        if let interruption = error as? BackupInterruption { return interruption.description }
        guard let advice = advice(for: error) else { return String(describing: error) }
        return "\(error) (\(advice))"
    }

    /// Core's errors say what to do without naming flags or verbs (a daemon or an API
    /// caller has none); on the command line the remedy is spelled as a command.
    static func advice(for error: any Error) -> String? {
        switch error {
        case let f as BackupPipeline.Failure: return advice(for: f.underlying)
        case RepositoryError.storage(let e): return advice(for: e)
        case RepositoryError.crypto(let e): return advice(for: e)
        case RepositoryError.notARepository, StorageError.locationNotFound: return "check --repo, or run 'lifeboat init'"
        case RepositoryError.damaged, RepositoryError.undecodable, StorageError.truncated: return "run 'lifeboat check --read-data'"
        case RepositoryError.blobNotInIndex: return "run 'lifeboat check'"
        case RepositoryError.snapshotNotFound: return "list them with 'lifeboat snapshots'"
        case RepositoryError.pathNotInSnapshot: return "'lifeboat ls SNAPSHOT' lists what it holds"
        case RepositoryError.damagedSnapshotsSkipped: return "'lifeboat check' names them; --latest-intact takes the newest intact snapshot"
        case CryptoError.wrongPassphrase:
            return PassphraseOrigin.last.map { "it was read from \($0)" } ?? "check --password-file or LIFEBOAT_PASSWORD"
        case CryptoError.walOnlyKey: return "a 'key add --wal-only' passphrase serves 'wal push', 'wal fetch' and 'wal list' only"
        case KeyError.notFound: return "list them with 'lifeboat key list'"
        case KeyError.inUse: return "'lifeboat key passwd' changes its passphrase"
        case SQLiteSourceError.targetExists: return "choose another --sqlite-target, or pass --force to replace it"
        case SQLiteSourceError.targetInUse: return "stop it first, or pass --force"
        case SQLiteSourceError.notASQLiteSnapshot: return "use 'lifeboat restore' for files"
        case PostgreSQLSourceError.notAPostgreSQLSnapshot: return "use 'lifeboat restore' for files, --sqlite-target for SQLite"
        case PostgreSQLSourceError.dataDirectoryMismatch, PostgreSQLSourceError.dataDirectoryUnreadable: return "see --pgdata"
        case PostgreSQLSourceError.walNotArchived: return "archive_command = 'lifeboat wal push %p' with this repository"
        case PostgreSQLSourceError.needsPasswordFile: return "use --password-file or LIFEBOAT_PASSWORD_FILE"
        case PostgreSQLSourceError.archivingOff: return "archive_command = 'lifeboat wal push %p'"
        default: return nil
        }
    }
}

extension ExitStatus {
    /// The status's name in JSON errors: the case's name (`noRepository`, `usage`).
    var name: String { String(describing: self) }

    /// Whether the command line asks for JSON: `--json` before any `--` (after which
    /// arguments are operands). Looked for in the raw arguments, so that an error in
    /// parsing them is reported as JSON too.
    static func wantsJSON(_ arguments: [String]) -> Bool {
        arguments.dropFirst().prefix { $0 != "--" }.contains("--json")
    }

    /// Writes a failure to stderr: `lifeboat: <message>`, or with `json` one line
    /// `{"error": {"status": "<name>", "code": N, "message": "..."}}` for every verb.
    static func report(status: ExitStatus, code: Int32, message: String, json: Bool) {
        guard json else {
            FileHandle.standardError.write(Data("lifeboat: \(message)\n".utf8))
            return
        }
        struct ErrorJSON: Encodable {
            struct Body: Encodable {
                let status: String
                let code: Int32
                let message: String
            }
            let error: Body
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // An encoder that cannot encode three plain values is a programmer error; the text form still tells the user.
        guard let data = try? encoder.encode(ErrorJSON(error: .init(status: status.name, code: code, message: message))) else {
            FileHandle.standardError.write(Data("lifeboat: \(message)\n".utf8))
            return
        }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }
}

extension CryptoError {
    /// The passphrase does not open what was asked: wrong, or WAL-only.
    var isWrongPassphrase: Bool {
        switch self {
        case .wrongPassphrase, .walOnlyKey: return true
        default: return false
        }
    }
}

/// Failures found by the CLI itself (missing passphrase, bad flag combination).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
