import Foundation

/// One backup run from beginning to end (DESIGN §6): the pre-backup consistency check,
/// the backup to PRIMARY with a fresh data key and post-backup read-back, replication to
/// every other reachable location (each copy verified by name), and retention per
/// location.
///
/// The pipeline never writes a record itself: after each stage it hands an ``Event`` to
/// the caller's `record` closure (the CLI writes it to the catalog), so that a crash
/// between stages leaves the record at the last finished stage. A location that cannot be
/// reached does not fail the run: its event carries the error, and the next run copies
/// everything it lacks.
public struct BackupPipeline: Sendable {
    /// What is backed up.
    public enum Source: Sendable {
        case files(paths: [String], excludes: [String])
        case sqlite(path: String)
        case postgres(PostgreSQLSource, dataDirectory: String?)

        public var kind: String {
            switch self {
            case .files: return "files"
            case .sqlite: return "sqlite"
            case .postgres: return "postgres"
            }
        }
    }

    /// A location other than PRIMARY. `open` may fail (a bucket that is down, a medium that
    /// is not mounted): that location's copy stays pending.
    public struct Location: Sendable {
        public var name: String
        public var role: String
        /// The label of a removable medium, whose manifest is brought up to date after a copy.
        public var medium: String?
        public var retention: RetentionPolicy?
        /// Whether the run copies to it. An AIR_GAPPED location is offline: it is written by
        /// `airgap export`, not by every run.
        public var replicates: Bool
        public var open: @Sendable () async throws -> any StorageBackend

        public init(
            name: String, role: String, medium: String? = nil, retention: RetentionPolicy? = nil, replicates: Bool = true,
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

    public struct Request: Sendable {
        /// The source's name in the configuration; the snapshot is tagged `source:<name>`.
        public var sourceName: String
        public var source: Source
        /// nil: INCREMENTAL when a parent exists, FULL otherwise.
        public var type: BackupType?
        public var host: String
        public var username: String
        public var programVersion = "dev"
        public var tags: [String] = []
        /// PostgreSQL: how long to wait for the WAL to be archived.
        public var archiveTimeout: Duration = .seconds(300)

        public init(sourceName: String, source: Source, type: BackupType?, host: String, username: String) {
            self.sourceName = sourceName
            self.source = source
            self.type = type
            self.host = host
            self.username = username
        }

        public var sourceTag: String { "source:\(sourceName)" }
    }

    public enum Stage: String, Sendable, CaseIterable {
        case preCheck = "PRE_CHECK"
        case backup = "BACKUP"
        case replication = "REPLICATION"
        case retention = "RETENTION"
        case finished = "FINISHED"
    }

    /// What one location ended up with.
    public struct LocationResult: Sendable {
        public var name: String
        public var role: String
        /// nil when the copy arrived and was verified.
        public var error: String?
        public var report: Replicator.Report?
        /// The snapshots the location holds after the copy: records of earlier runs whose
        /// copy was pending can be settled from it.
        public var snapshotsPresent: Set<SnapshotID>
    }

    public struct RetentionResult: Sendable {
        public var location: String
        public var forgotten: [SnapshotID]
        public var error: String?
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
        public var stage: Stage
        /// The post-backup read-back found damage (BackupError.readBackFailed).
        public var isVerificationFailure: Bool
        public var underlying: any Error
        public var description: String {
            if stage == .preCheck, !(underlying is BackupError) {
                return "the pre-backup check failed: \(underlying); nothing was written"
            }
            return "\(underlying)"
        }
    }

    public let primary: Repository
    /// PRIMARY's name in the configuration, as events name it.
    public let primaryName: String
    public let locations: [Location]
    /// Opens replicas for retention (their snapshots must be read to be forgotten).
    public let passphrase: String
    /// PRIMARY's own retention (PRIMARY is not among `locations`).
    public var primaryRetention: RetentionPolicy?

    public init(primary: Repository, primaryName: String, locations: [Location], passphrase: String) {
        self.primary = primary
        self.primaryName = primaryName
        self.locations = locations
        self.passphrase = passphrase
    }

    /// Runs every stage; throws a ``Failure`` when the pre-check or the backup fails (a
    /// location's failure is an event, not a throw).
    @discardableResult
    public func run(
        _ request: Request, progress: AsyncStream<BackupProgress>.Continuation? = nil,
        record: @Sendable (Event) async throws -> Void
    ) async throws -> BackupResult {
        let prepared: Prepared
        do {
            prepared = try await prepare(request)
        } catch let error as CancellationError {
            throw error
        } catch {
            let outcome = Snapshot.CheckOutcome(passed: false, details: "\(error)")
            try await record(.preCheck(outcome))
            throw Failure(stage: .preCheck, isVerificationFailure: false, underlying: error)
        }
        // The database copy the check made is what is backed up; it goes whatever happens.
        defer { if case .sqlite(let copy) = prepared { copy.discard() } }
        try await record(.preCheck(prepared.check))

        let result: BackupResult
        do {
            result = try await backup(prepared, progress: progress)
        } catch let error as CancellationError {
            throw error
        } catch {
            var readBack = false
            if case BackupError.readBackFailed = error { readBack = true }
            throw Failure(stage: .backup, isVerificationFailure: readBack, underlying: error)
        }
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
                outcome = RetentionResult(location: location.name, forgotten: [], error: "\(error)")
            }
            try await record(.retained(outcome))
        }
        try await record(.finished)
        return result
    }

    // MARK: Stages

    /// What the pre-check leaves for the backup: SQLite's checked copy, PostgreSQL's
    /// checked session, so that neither is made or checked twice.
    enum Prepared {
        case files(BackupOptions, Snapshot.CheckOutcome)
        case sqlite(SQLiteBackup.Prepared)
        case postgres(PostgreSQLBackup.Prepared)

        var check: Snapshot.CheckOutcome {
            switch self {
            case .files(_, let check): return check
            case .sqlite(let copy): return copy.preCheck
            case .postgres(let session): return session.preCheck
            }
        }
    }

    /// The pre-backup check: the source is readable and consistent; nothing is written.
    private func prepare(_ request: Request) async throws -> Prepared {
        var options = BackupOptions(paths: [], type: request.type, host: request.host, username: request.username)
        options.programVersion = request.programVersion
        options.tags = [request.sourceTag] + request.tags
        options.readsBack = true
        switch request.source {
        case .files(let paths, let excludes):
            var problems: [String] = []
            for path in paths {
                var st = stat()
                if lstat(path, &st) != 0 {
                    problems.append("\(path): \(String(cString: strerror(errno)))")
                } else if access(path, R_OK) != 0 {
                    problems.append("\(path): not readable (\(String(cString: strerror(errno))))")
                }
            }
            guard problems.isEmpty else { throw BackupError.preCheckFailed(problems.joined(separator: "; ")) }
            options.paths = paths
            options.excludes = excludes
            return .files(options, Snapshot.CheckOutcome(passed: true, details: "\(paths.count) paths present and readable"))
        case .sqlite(let path):
            return .sqlite(try await SQLiteBackup(repository: primary).prepare(databasePath: path, options: options))
        case .postgres(let source, let dataDirectory):
            var pg = PostgreSQLBackup.Options(source: source, backup: options)
            pg.dataDirectory = dataDirectory
            pg.checkpoint = .fast
            pg.archiveTimeout = request.archiveTimeout
            return .postgres(try await PostgreSQLBackup(repository: primary).prepare(pg))
        }
    }

    private func backup(_ prepared: Prepared, progress: AsyncStream<BackupProgress>.Continuation?) async throws -> BackupResult {
        switch prepared {
        case .files(var options, let check):
            options.preCheck = check
            return try await Archiver(repository: primary).backup(options, progress: progress)
        case .sqlite(let copy):
            return try await SQLiteBackup(repository: primary).backup(copy, progress: progress)
        case .postgres(let session):
            return try await PostgreSQLBackup(repository: primary).backup(session, progress: progress)
        }
    }

    private func replicate(to location: Location, request: Request) async -> (LocationResult, (any StorageBackend)?) {
        var result = LocationResult(name: location.name, role: location.role, error: nil, report: nil, snapshotsPresent: [])
        do {
            let backend = try await location.open()
            result.report = try await Replicator.copy(primary, to: backend, medium: location.medium, host: request.host, username: request.username)
            result.snapshotsPresent = Set(try await backend.list(.snapshots).compactMap { SnapshotID(hex: $0.name.name) })
            return (result, backend)
        } catch {
            result.error = "\(error)"
            return (result, nil)
        }
    }

    private func retain(_ repo: Repository, policy: RetentionPolicy, location: String, request: Request) async -> RetentionResult {
        do {
            let forgetter = Forgetter(repository: repo)
            let plan = try await forgetter.plan(policy)
            try await forgetter.execute(plan, host: request.host, username: request.username)
            return RetentionResult(location: location, forgotten: plan.forgotten.map(\.id), error: nil)
        } catch {
            return RetentionResult(location: location, forgotten: [], error: "\(error)")
        }
    }
}
