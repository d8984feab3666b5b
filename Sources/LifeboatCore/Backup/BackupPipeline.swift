import Foundation

/// One backup run from beginning to end (DESIGN §6): the pre-backup consistency check,
/// the backup to PRIMARY with a fresh data key and post-backup read-back, replication to
/// every other reachable location (each copy verified by name), and retention per
/// location. Every source takes the same path through its ``BackupSource`` phases
/// (``SourceBackup``); the pre-check's result (SQLite's checked copy, PostgreSQL's
/// checked session) is what the backup reads.
///
/// The pipeline never writes a record itself: after each stage it hands an ``Event`` to
/// the caller's `record` closure (the CLI writes it to the catalog), so that a crash
/// between stages leaves the record at the last finished stage. A location that cannot be
/// reached does not fail the run: its event carries the error, and the next run copies
/// everything it lacks.
public struct BackupPipeline: Sendable {
    /// What is backed up.
    public enum Source: Sendable {
        /// Paths of the local filesystem.
        case files(paths: [String], excludes: [String])
        /// A live SQLite database.
        case sqlite(path: String)
        /// A running PostgreSQL cluster; a configured run checkpoints fast.
        case postgres(PostgreSQLSource, dataDirectory: String?)
        /// Any source, exactly as it is set up.
        case source(any BackupSource)

        /// `files`, `sqlite` or `postgres`.
        public var kind: SourceKind { backupSource.kind }

        /// The source whose phases the run goes through.
        public var backupSource: any BackupSource {
            switch self {
            case .files(let paths, let excludes): return FilesSource(paths: paths, excludes: excludes)
            case .sqlite(let path): return SQLiteSource(path: path)
            case .postgres(var source, let dataDirectory):
                source.dataDirectory = dataDirectory
                // A scheduled run starts at once rather than waiting minutes for a paced checkpoint.
                source.checkpoint = .fast
                return source
            case .source(let source): return source
            }
        }
    }

    /// A location other than PRIMARY. `open` may fail (a bucket that is down, a medium that
    /// is not mounted): that location's copy stays pending.
    public struct Location: Sendable {
        /// The location's name in the configuration.
        public var name: String
        /// PRIMARY, SECONDARY, TERTIARY or AIR_GAPPED.
        public var role: LocationRole
        /// The label of a removable medium, whose manifest is brought up to date after a copy.
        public var medium: String?
        /// What retention forgets there after the copy; nil keeps everything.
        public var retention: RetentionPolicy?
        /// Whether the run copies to it. An AIR_GAPPED location is offline: it is written by
        /// `airgap export`, not by every run.
        public var replicates: Bool
        /// Opens the location's storage.
        public var open: @Sendable () async throws -> any StorageBackend

        /// A location the run copies to (unless `replicates` is false).
        public init(
            name: String, role: LocationRole, medium: String? = nil, retention: RetentionPolicy? = nil, replicates: Bool = true,
            open: @escaping @Sendable () async throws -> any StorageBackend
        ) {
            self.name = name
            self.role = role
            self.medium = medium
            self.retention = retention
            self.replicates = replicates
            self.open = open
        }
    }

    /// One run's source and settings.
    public struct Request: Sendable {
        /// The source's name in the configuration; the snapshot is tagged `source:<name>`.
        /// Empty for a source named by its paths alone (`lifeboat backup`): no tag.
        public var sourceName: String
        /// What is backed up.
        public var source: Source
        /// nil: INCREMENTAL when a parent exists, FULL otherwise.
        public var type: BackupType?
        /// The host the snapshot and the lock name.
        public var host: String
        /// The user the snapshot and the lock name.
        public var username: String
        /// Recorded in the snapshot.
        public var programVersion = "dev"
        /// More tags for the snapshot.
        public var tags: [String] = []
        /// Glob patterns left out, added to the source's own.
        public var excludes: [String] = []
        /// Case-insensitive excludes, marker files, caches, other file systems (file sources).
        public var filters = FileFilters()
        /// How hard blobs are compressed.
        public var compression = CompressionMode.auto
        /// Files read at once; nil for the default (cores + 1).
        public var fileWorkers: Int?
        /// PostgreSQL: how long to wait for the WAL to be archived.
        public var archiveTimeout: Duration = .seconds(300)
        /// Read, chunk, compress and seal everything, store nothing (files only): what
        /// would be added, without a snapshot, copies or retention.
        public var isDryRun = false

        /// A run of `source`; `type` nil lets the pipeline choose.
        public init(sourceName: String, source: Source, type: BackupType?, host: String, username: String) {
            self.sourceName = sourceName
            self.source = source
            self.type = type
            self.host = host
            self.username = username
        }

        /// `source:<name>`, or nil for an unnamed source.
        public var sourceTag: String? { sourceName.isEmpty ? nil : Snapshot.sourceTag(sourceName) }
    }

    /// The stages of a run, as the catalog records them.
    public enum Stage: String, Sendable, CaseIterable {
        case preCheck = "PRE_CHECK"
        case backup = "BACKUP"
        case replication = "REPLICATION"
        case retention = "RETENTION"
        case finished = "FINISHED"
    }

    /// What one location ended up with.
    public struct LocationResult: Sendable {
        /// The location's name.
        public var name: String
        /// The location's role.
        public var role: LocationRole
        /// nil when the copy arrived and was verified.
        public var error: (any Error)?
        /// What the copy did, when it got that far.
        public var report: Replicator.Report?
        /// The snapshots the location holds after the copy: records of earlier runs whose
        /// copy was pending can be settled from it.
        public var snapshotsPresent: Set<SnapshotID>
    }

    /// What retention did in one location.
    public struct RetentionResult: Sendable {
        /// The location's name.
        public var location: String
        /// The snapshots forgotten.
        public var forgotten: [SnapshotID]
        /// Why retention failed there; nil when it ran.
        public var error: (any Error)?
        /// The prune that followed a forget (none when nothing was forgotten).
        public var prune: Pruner.Report?
        /// Why that prune failed; the forget stands.
        public var pruneError: (any Error)?

        public init(location: String, forgotten: [SnapshotID], error: (any Error)?, prune: Pruner.Report? = nil, pruneError: (any Error)? = nil) {
            self.location = location
            self.forgotten = forgotten
            self.error = error
            self.prune = prune
            self.pruneError = pruneError
        }
    }

    /// Reported after each stage, in order.
    public enum Event: Sendable {
        case preCheck(Snapshot.CheckOutcome)
        /// The snapshot is written: its objects were read back and authenticated first.
        case backedUp(BackupResult)
        case replicated(LocationResult)
        case retained(RetentionResult)
        case finished

        /// The stage this event ends.
        public var stage: Stage {
            switch self {
            case .preCheck: return .preCheck
            case .backedUp: return .backup
            case .replicated: return .replication
            case .retained: return .retention
            case .finished: return .finished
            }
        }
    }

    /// Why a run stopped; the stage says where.
    public struct Failure: Error, CustomStringConvertible {
        /// The stage that failed.
        public var stage: Stage
        /// The post-backup read-back found damage (BackupError.readBackFailed).
        public var isVerificationFailure: Bool
        /// What failed.
        public var underlying: any Error
        /// One sentence for the user.
        public var description: String {
            // A source's own pre-check error already says so.
            if stage == .preCheck, (underlying as? any SaysNothingWasWritten)?.saysNothingWasWritten != true {
                return "the pre-backup check failed: \(underlying); nothing was written"
            }
            return "\(underlying)"
        }
    }

    /// PRIMARY's repository: the backup goes there.
    public let primary: Repository
    /// PRIMARY's name in the configuration, as events name it.
    public let primaryName: String
    /// Every other location.
    public let locations: [Location]
    /// Opens replicas for retention (their snapshots must be read to be forgotten).
    public let passphrase: String
    /// PRIMARY's own retention (PRIMARY is not among `locations`).
    public var primaryRetention: RetentionPolicy?

    /// A pipeline that backs up to `primary` and copies to `locations`.
    /// - Parameter passphrase: opens the locations' repositories for their retention.
    public init(primary: Repository, primaryName: String, locations: [Location], passphrase: String) {
        self.primary = primary
        self.primaryName = primaryName
        self.locations = locations
        self.passphrase = passphrase
    }

    /// A pipeline that backs up to one repository and copies nowhere (`lifeboat backup`).
    public init(primary: Repository) {
        self.init(primary: primary, primaryName: "primary", locations: [], passphrase: "")
    }

    /// Runs every stage; throws a ``Failure`` when the pre-check or the backup fails (a
    /// location's failure is an event, not a throw).
    @discardableResult
    public func run(
        _ request: Request, progress: AsyncStream<BackupProgress>.Continuation? = nil,
        record: @Sendable (Event) async throws -> Void = { _ in }
    ) async throws -> BackupResult {
        let options = backupOptions(for: request)
        if request.isDryRun, request.source.kind != .files { throw BackupError.dryRunNotForDatabases(request.source.kind) }
        let backup = SourceBackup(repository: request.isDryRun ? primary.discardingWrites() : primary)
        let checked: any CheckedBackupSource
        do {
            checked = try await backup.check(request.source.backupSource, options: options)
        } catch let error as CancellationError {
            throw error
        } catch {
            let outcome = Snapshot.CheckOutcome(passed: false, details: "\(error)")
            try await record(.preCheck(outcome))
            throw Failure(stage: .preCheck, isVerificationFailure: false, underlying: error)
        }
        // What the check made (a database copy, a session) is what is backed up; it goes whatever happens.
        defer { checked.discard() }
        try await record(.preCheck(checked.preCheck))

        let result: BackupResult
        do {
            result = try await backup.backup(checked, options: options, progress: progress)
        } catch let error as CancellationError {
            throw error
        } catch {
            var readBack = false
            if case BackupError.readBackFailed = error { readBack = true }
            throw Failure(stage: .backup, isVerificationFailure: readBack, underlying: error)
        }
        guard !request.isDryRun else { return result }
        try await record(.backedUp(result))

        var reachable: [(Location, any StorageBackend)] = []
        for location in locations where location.replicates {
            let outcome = await replicate(to: location, request: request)
            try await record(.replicated(outcome.0))
            if let backend = outcome.1 { reachable.append((location, backend)) }
        }

        if let policy = primaryRetention {
            try await record(.retained(await retain(primary, policy: policy, location: primaryName, request: request)))
        }
        for (location, backend) in reachable {
            guard let policy = location.retention else { continue }
            let outcome: RetentionResult
            do {
                let repo = try await Repository.open(backend: backend, passphrase: passphrase)
                outcome = await retain(repo, policy: policy, location: location.name, request: request)
            } catch {
                outcome = RetentionResult(location: location.name, forgotten: [], error: error)
            }
            try await record(.retained(outcome))
        }
        try await record(.finished)
        return result
    }

    // MARK: Stages

    /// The run's settings as every source's backup takes them; the read-back is always on
    /// (DESIGN §1.3: nothing unverified is called done).
    private func backupOptions(for request: Request) -> BackupOptions {
        var options = BackupOptions(paths: [], type: request.type, host: request.host, username: request.username)
        options.programVersion = request.programVersion
        options.tags = (request.sourceTag.map { [$0] } ?? []) + request.tags
        options.excludes = request.excludes
        options.filters = request.filters
        options.compression = request.compression
        if let workers = request.fileWorkers { options.fileWorkers = max(1, workers) }
        options.archiveTimeout = request.archiveTimeout
        // A dry run stored nothing to read back.
        options.readsBack = !request.isDryRun
        return options
    }

    private func replicate(to location: Location, request: Request) async -> (LocationResult, (any StorageBackend)?) {
        var result = LocationResult(name: location.name, role: location.role, error: nil, report: nil, snapshotsPresent: [])
        do {
            let backend = try await location.open()
            result.report = try await Replicator.copy(primary, to: backend, medium: location.medium, host: request.host, username: request.username)
            result.snapshotsPresent = Set(try await backend.list(.snapshots).compactMap { SnapshotID(hex: $0.name.name) })
            return (result, backend)
        } catch {
            result.error = error
            return (result, nil)
        }
    }

    /// Forgets by `policy` in one location, then, when something was forgotten, prunes
    /// there: retention that only forgot would leave every byte it no longer needs in
    /// place (a SECONDARY that no one prunes by hand grows without end).
    private func retain(_ repo: Repository, policy: RetentionPolicy, location: String, request: Request) async -> RetentionResult {
        var result: RetentionResult
        do {
            let forgetter = Forgetter(repository: repo)
            let plan = try await forgetter.plan(policy)
            try await forgetter.execute(plan, host: request.host, username: request.username)
            result = RetentionResult(location: location, forgotten: plan.forgotten.map(\.id), error: nil)
        } catch {
            return RetentionResult(location: location, forgotten: [], error: error)
        }
        guard !result.forgotten.isEmpty else { return result }
        do {
            result.prune = try await Pruner(repository: repo).prune(host: request.host, username: request.username)
        } catch {
            result.pruneError = error
        }
        return result
    }
}
