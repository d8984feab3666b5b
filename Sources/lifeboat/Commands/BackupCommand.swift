import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up files and directories, a SQLite database or a PostgreSQL cluster into a new snapshot.",
        discussion: """
            INCREMENTAL (the default when an earlier snapshot of the same paths exists) reads only \
            files whose size, mtime, ctime or inode changed; FULL reads every byte. Both make a \
            snapshot that restores on its own. Exits 3 when some files could not be read. \
            PostgreSQL (--postgres URL): checks the server first (archive_mode on, the last \
            archive attempt succeeded, no page checksum failures, --amcheck-index), then takes a \
            base backup with pg_backup_start/pg_backup_stop while it reads the data directory, and \
            writes the snapshot only once the WAL from its start to its stop is archived in this \
            repository (archive_command = 'lifeboat wal push %p'). --type transaction-log switches \
            the WAL, waits for it to be archived and records the archived range since the newest \
            base backup, after checking it has no gap.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var progressOptions: ProgressOptions

    @Argument(help: "Paths to back up.")
    var paths: [String] = []

    @Option(name: .long, help: "Back up a live SQLite database (a consistent copy, checked first) instead of paths.")
    var sqlite: String?

    @Option(name: .long, help: "Back up a running PostgreSQL cluster (a libpq URL): a base backup, or with --type transaction-log a proof that its WAL is archived.")
    var postgres: String?

    @Option(name: .long, help: "The cluster's data directory on this host (default: the server's data_directory).")
    var pgdata: String?

    @Option(name: .long, help: "PostgreSQL: fast or spread (default, as pg_basebackup): how pg_backup_start checkpoints.")
    var checkpoint: CheckpointArgument = .spread

    @Option(name: .long, help: "PostgreSQL: check this index with amcheck before the backup (repeatable).")
    var amcheckIndex: [String] = []

    @Option(name: .long, help: "PostgreSQL: seconds to wait for WAL to reach the archive (default 300).")
    var archiveTimeout: Int = 300

    @Option(name: .long, help: "full, incremental, configuration (paths only) or transaction-log (PostgreSQL only) (default: incremental when a parent exists).")
    var type: BackupTypeArgument?

    @Option(name: .long, help: "Tag the snapshot (repeatable).")
    var tag: [String] = []

    @Option(name: .long, help: "Skip paths matching a glob (repeatable; with a '/' it matches whole paths, else names).")
    var exclude: [String] = []

    @Option(name: .long, help: "Read exclude patterns from a file, one per line ('#' starts a comment; repeatable).")
    var excludeFile: [String] = []

    @Option(name: .long, help: "Skip paths matching a glob regardless of case (repeatable).")
    var iexclude: [String] = []

    @Flag(name: .long, help: "Keep only the tag of folders holding a valid CACHEDIR.TAG (caches need no backup).")
    var excludeCaches = false

    @Option(name: .long, help: "Keep only this file of folders that hold it (repeatable), e.g. .nobackup.")
    var excludeIfPresent: [String] = []

    @Flag(name: [.customShort("x"), .long], help: "Do not descend into other file systems (mount points are kept empty).")
    var oneFileSystem = false

    @Option(name: .long, help: "Read paths to back up from a file, one per line ('#' starts a comment; repeatable).")
    var filesFrom: [String] = []

    @Option(name: .long, help: "Record this host name in the snapshot instead of this machine's.")
    var host: String?

    @Option(name: .long, help: "auto (zstd 3, default), fastest (zstd 1: faster, a few percent larger) or max (zstd 12: smaller, several times slower).")
    var compression: CompressionMode = .auto

    @Flag(name: .long, help: "Accepted for compatibility; the post-backup verification is always on: every pack and index segment a backup wrote is read back, and each SHA-256 and blob checked, before the snapshot is written (exit 13 and no snapshot on damage).")
    var readBack = false

    @Option(help: ArgumentHelp("Files read at once (default: cores + 1).", visibility: .hidden))
    var fileWorkers: Int?

    @Flag(name: .long, help: "Read, chunk, compress and seal as a backup would, and store nothing: say what would be added (paths only).")
    var dryRun = false

    @Flag(name: .long, help: "Back up standard input to its end as one file (a 'pg_dump | lifeboat backup --stdin' pipe).")
    var stdin = false

    @Option(name: .long, help: "With --stdin: the file's name in the snapshot (default: stdin).")
    var stdinFilename: String?

    func validate() throws {
        let sources = (paths.isEmpty && filesFrom.isEmpty ? 0 : 1) + (sqlite == nil ? 0 : 1) + (postgres == nil ? 0 : 1) + (stdin ? 1 : 0)
        if stdinFilename != nil && !stdin { throw ValidationError("--stdin-filename goes with --stdin") }
        if let name = stdinFilename, !StreamSource.isValidName(name) {
            throw ValidationError("--stdin-filename '\(name)' must be one name without '/' (such as dump.sql)")
        }
        if stdin && sources > 1 { throw ValidationError("--stdin backs up standard input alone: leave out paths, --files-from, --sqlite and --postgres") }
        if stdin && (!exclude.isEmpty || !excludeFile.isEmpty || !iexclude.isEmpty || excludeCaches || !excludeIfPresent.isEmpty || oneFileSystem) {
            throw ValidationError("the exclude options and --one-file-system are for paths, not --stdin")
        }
        if sources == 0 { throw ValidationError("name at least one path to back up (or --files-from FILE), or --sqlite PATH, or --postgres URL, or --stdin") }
        let filters = !excludeFile.isEmpty || !iexclude.isEmpty || excludeCaches || !excludeIfPresent.isEmpty || oneFileSystem
        if filters && (sqlite != nil || postgres != nil) {
            throw ValidationError("--exclude-file, --iexclude, --exclude-caches, --exclude-if-present and --one-file-system are for paths")
        }
        if host?.isEmpty == true { throw ValidationError("--host needs a name") }
        if sources > 1 { throw ValidationError("give one source: paths, --sqlite or --postgres") }
        if type == .transactionLog && postgres == nil { throw ValidationError("--type transaction-log is for --postgres sources") }
        if type == .configuration && paths.isEmpty { throw ValidationError("--type configuration is for paths (a configuration folder)") }
        if pgdata != nil && postgres == nil { throw ValidationError("--pgdata goes with --postgres") }
        if archiveTimeout < 1 { throw ValidationError("--archive-timeout must be at least 1 second") }
        if dryRun && (sqlite != nil || postgres != nil) { throw ValidationError("--dry-run is for paths, not --sqlite or --postgres") }
    }

    func run() async throws {
        let repo = try await repository.open()
        // The same path as `lifeboat run`: pre-check, backup, read-back (always on), snapshot.
        let source: BackupPipeline.Source
        if let database = sqlite {
            source = .sqlite(path: database)
        } else if stdin {
            guard isatty(STDIN_FILENO) == 0 else { throw CLIError("--stdin reads standard input, which is a terminal here: pipe the data in ('pg_dump app | lifeboat backup --stdin --stdin-filename app.sql')") }
            source = .source(StreamSource(fileDescriptor: STDIN_FILENO, name: stdinFilename ?? "stdin"))
        } else if let postgres {
            var pg = PostgreSQLSource(url: postgres)
            pg.amcheckIndexes = amcheckIndex
            pg.dataDirectory = pgdata
            pg.checkpoint = checkpoint == .fast ? .fast : .spread
            source = .source(pg)
        } else {
            source = .files(paths: paths + (try filesFrom.flatMap { try Self.lines(of: $0, what: "--files-from") }), excludes: [])
        }
        var request = BackupPipeline.Request(
            sourceName: "", source: source, type: type?.backupType, host: host ?? Requester.current.host, username: Requester.current.username)
        request.tags = tag
        request.excludes = exclude + (try excludeFile.flatMap { try Self.lines(of: $0, what: "--exclude-file") })
        request.filters.excludesIgnoringCase = iexclude
        request.filters.excludeIfPresent = excludeIfPresent
        request.filters.excludeCaches = excludeCaches
        request.filters.oneFileSystem = oneFileSystem
        request.compression = compression
        request.programVersion = Lifeboat.version
        request.archiveTimeout = .seconds(archiveTimeout)
        request.fileWorkers = fileWorkers
        request.isDryRun = dryRun
        let backupRequest = request
        let progress = TerminalProgress(mode: progressOptions.mode(json: output.json))
        let result = try await BackupInterruption.translating {
            try await progress.rendering { events in try await BackupPipeline(primary: repo).run(backupRequest, progress: events) }
        }
        let s = result.snapshot
        let stats = s.statistics
        if dryRun {
            if output.json {
                try JSONOutput.print(DryRunJSON(
                    type: s.type.rawValue, parent: s.parent?.hex, filesNew: stats.filesNew, filesChanged: stats.filesChanged,
                    filesUnmodified: stats.filesUnmodified, bytesRead: stats.bytesRead, bytesAdded: stats.bytesAdded, blobsAdded: stats.blobsAdded,
                    warnings: s.warnings))
            } else {
                print("dry run: a \(s.type.rawValue) backup\(s.parent.map { " (parent \($0.shortHex))" } ?? "") would read \(stats.filesNew) new, \(stats.filesChanged) changed and \(stats.filesUnmodified) unmodified files (\(ByteFormat.string(stats.bytesRead)) read) and add \(ByteFormat.string(stats.bytesAdded)) in \(stats.blobsAdded) blobs; nothing was stored")
            }
        } else if output.json {
            try JSONOutput.print(result)
        } else {
            if progress.isActive {
                FileHandle.standardError.write(Data(
                    "\(s.type.rawValue): \(stats.filesNew) new, \(stats.filesChanged) changed, \(stats.filesUnmodified) unmodified files; read \(ByteFormat.string(stats.bytesRead)), added \(ByteFormat.string(stats.bytesAdded)) in \(String(format: "%.2f", stats.durationSeconds)) s\n".utf8))
            }
            print(result.snapshotID.hex)
        }
        if !s.warnings.isEmpty {
            for w in s.warnings { FileHandle.standardError.write(Data("lifeboat: warning: \(w)\n".utf8)) }
            throw ExitCode(ExitStatus.partial.rawValue)
        }
    }
}

extension BackupCommand {
    /// The lines of a list file (paths or patterns): blank lines and '#' comments left out,
    /// surrounding spaces kept (a name may have them), a trailing CR dropped.
    static func lines(of file: String, what: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("\(what) \(file): cannot be read (\(String(cString: strerror(errno))))")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(what) \(file): is not UTF-8 text") }
        return text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
    }
}

extension CompressionMode: ExpressibleByArgument {}

enum BackupTypeArgument: String, ExpressibleByArgument, CaseIterable {
    case full, incremental, configuration
    case transactionLog = "transaction-log"
    var backupType: BackupType {
        switch self {
        case .full: return .full
        case .incremental: return .incremental
        case .configuration: return .configuration
        case .transactionLog: return .transactionLog
        }
    }
}

enum CheckpointArgument: String, ExpressibleByArgument, CaseIterable {
    case fast, spread
}

/// `backup --dry-run --json`: what the backup would have done; there is no snapshot.
struct DryRunJSON: Encodable {
    var dryRun = true
    let type: String
    let parent: String?
    let filesNew, filesChanged, filesUnmodified: Int
    let bytesRead, bytesAdded: Int64
    let blobsAdded: Int
    let warnings: [String]
}
