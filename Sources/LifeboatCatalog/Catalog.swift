import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import LifeboatCore
import Logging
import NIOPosix

/// Where the catalog lives: a SQLite file (the default) or a PostgreSQL database.
public enum CatalogLocation: Sendable, CustomStringConvertible {
    case sqlite(path: String)
    /// A URL without a password; the password comes from the environment or a file.
    case postgres(url: String, password: String?)

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url, _): return url
        }
    }
}

public enum CatalogError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(String, String)
    case failed(String, String)
    case notFound(String)

    public var description: String {
        switch self {
        case .cannotOpen(let l, let why): return "cannot open the catalog at \(l): \(why)"
        case .failed(let what, let why): return "the catalog could not \(what): \(why)"
        case .notFound(let what): return "the catalog has no \(what)"
        }
    }
}

/// The BackupLog (DESIGN §8) on Fluent. Recovery never depends on it: every row can be
/// rebuilt from the snapshots in a location (``CatalogRebuilder``).
public final class Catalog: Sendable {
    public let location: CatalogLocation
    private let databases: Databases
    /// A SQLite catalog's own thread, on which its one connection runs its statements.
    private let ownThreadPool: NIOThreadPool?
    let database: any Database

    private init(location: CatalogLocation, databases: Databases, ownThreadPool: NIOThreadPool?, database: any Database) {
        self.location = location
        self.databases = databases
        self.ownThreadPool = ownThreadPool
        self.database = database
    }

    /// Opens the catalog and applies the migrations it lacks.
    public static func open(_ location: CatalogLocation) async throws -> Catalog {
        try await open(location, migrations: CatalogMigrations.all)
    }

    /// With the first versions only: what an older release left behind (for the upgrade test).
    static func open(_ location: CatalogLocation, migrations list: [any AsyncMigration]) async throws -> Catalog {
        // A statement that waits for another connection's write lock blocks the thread it
        // runs on for up to the busy timeout. On the process's shared pool (one thread per
        // core) a few waiting catalogs would hold every thread, and the writer they wait for
        // would find none for its next statement: all would fail "database is locked". Each
        // SQLite catalog has one connection, so one thread of its own loses nothing.
        var ownThreadPool: NIOThreadPool?
        if case .sqlite = location {
            let pool = NIOThreadPool(numberOfThreads: 1)
            pool.start()
            ownThreadPool = pool
        }
        let databases = Databases(threadPool: ownThreadPool ?? NIOThreadPool.singleton, on: MultiThreadedEventLoopGroup.singleton)
        func shutdown() async {
            await databases.shutdownAsync()
            // The pool's only error is that it was shut down already.
            try? await ownThreadPool?.shutdownGracefully()
        }
        switch location {
        case .sqlite(let path):
            let folder = (path as NSString).deletingLastPathComponent
            guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder) else {
                await shutdown()
                throw CatalogError.cannotOpen(location.description, "the folder \(folder) does not exist")
            }
            databases.use(.sqlite(.file(path), sqlLogLevel: nil), as: .sqlite)
        case .postgres(let url, let password):
            var configuration: SQLPostgresConfiguration
            do {
                configuration = try SQLPostgresConfiguration(url: url)
            } catch {
                throw CatalogError.cannotOpen(url, "not a postgres://user@host[:port]/database URL")
            }
            if let password { configuration.coreConfiguration.password = password }
            databases.use(.postgres(configuration: configuration, sqlLogLevel: .debug), as: .psql)
        }
        var logger = Logger(label: "lifeboat.catalog")
        // Failures reach the caller as errors; nothing is printed (stdout may be --json).
        logger.logLevel = .critical
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        guard let database = databases.database(logger: logger, on: eventLoop) else {
            await shutdown()
            throw CatalogError.cannotOpen(location.description, "no database")
        }
        if case .sqlite = location {
            // Before the migrations, so that their statements wait for another writer too.
            do {
                try await configureSQLite(database)
            } catch {
                await shutdown()
                throw CatalogError.cannotOpen(location.description, String(reflecting: error))
            }
        }
        let migrations = Migrations()
        migrations.add(list)
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: eventLoop, migrationLogLevel: .debug)
        // Two runs that open a new catalog at once race to create its tables; the loser
        // finds them made (or half made) and tries again once the winner has recorded them.
        var attempt = 0
        while true {
            do {
                try await migrator.setupIfNeeded().get()
                try await migrator.prepareBatch().get()
                break
            } catch {
                attempt += 1
                if attempt < 8 {
                    try? await Task.sleep(for: .milliseconds(50 * attempt))
                    continue
                }
                await shutdown()
                throw CatalogError.cannotOpen(location.description, String(reflecting: error))
            }
        }
        return Catalog(location: location, databases: databases, ownThreadPool: ownThreadPool, database: database)
    }

    /// Closes the catalog's connections. The last connection to a SQLite catalog to close
    /// moves what its WAL holds into the file and removes the WAL.
    public func close() async {
        await databases.shutdownAsync()
        // The pool's only error is that it was shut down already.
        try? await ownThreadPool?.shutdownGracefully()
    }

    /// Opens the catalog, runs `body` on it, and closes it whatever happens.
    public static func using<T: Sendable>(_ location: CatalogLocation, _ body: (Catalog) async throws -> T) async throws -> T {
        let catalog = try await open(location)
        do {
            let result = try await body(catalog)
            await catalog.close()
            return result
        } catch {
            await catalog.close()
            throw error
        }
    }

    /// The names of the migrations applied so far, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await MigrationLog.query(on: database).sort(\.$batch).all().map(\.name)
    }

    // MARK: Writing

    /// What a run knows when it starts.
    public struct NewBackup: Sendable {
        public var type: String
        public var scheduleType: ScheduleType?
        public var source: String
        public var sourceKind: SourceKind
        public var requestedBy: String
        public var host: String
        public var pid: Int
        /// The owner's boot and start time, so that a reused pid or a reboot is seen.
        public var bootID: String?
        public var startTicks: UInt64?
        public var startedAt = Date()
        /// The row's lease: RUNNING stays true only while the owner renews it within this.
        public var leaseDuration: Duration = Catalog.defaultLease

        public init(type: String, scheduleType: ScheduleType?, source: String, sourceKind: SourceKind, requestedBy: String, host: String, pid: Int) {
            self.type = type
            self.scheduleType = scheduleType
            self.source = source
            self.sourceKind = sourceKind
            self.requestedBy = requestedBy
            self.host = host
            self.pid = pid
        }

        /// A run owned by `owner` (usually ``ProcessIdentity/current(host:)``).
        public init(type: String, scheduleType: ScheduleType?, source: String, sourceKind: SourceKind, requestedBy: String, owner: ProcessIdentity) {
            self.init(
                type: type, scheduleType: scheduleType, source: source, sourceKind: sourceKind, requestedBy: requestedBy, host: owner.host,
                pid: Int(owner.pid))
            bootID = owner.bootID
            startTicks = owner.startTicks
        }
    }

    /// How long a RUNNING row's lease lasts unless renewed; owners renew it every third of that.
    public static let defaultLease: Duration = .seconds(60)

    /// Writes the RUNNING row; returns its id.
    public func begin(_ new: NewBackup) async throws -> UUID {
        let m = BackupLogModel()
        m.type = new.type
        m.scheduleType = new.scheduleType?.rawValue
        m.source = new.source
        m.sourceKind = new.sourceKind.rawValue
        m.status = BackupStatus.running.rawValue
        m.startedAt = new.startedAt
        m.requestedBy = new.requestedBy
        m.host = new.host
        m.pid = new.pid
        m.ownerBootID = new.bootID
        m.ownerStartTicks = new.startTicks.map { Int64(bitPattern: $0) }
        m.leaseExpiresAt = new.startedAt.addingTimeInterval(new.leaseDuration.seconds)
        m.restoreTested = false
        try await perform("write the BackupLog row") { try await m.create(on: self.database) }
        return m.id!
    }

    /// Changes one row and saves it.
    func update(_ id: UUID, _ change: @Sendable (BackupLogModel) -> Void) async throws {
        try await perform("update the BackupLog row") {
            guard let m = try await BackupLogModel.find(id, on: self.database) else { throw CatalogError.notFound("BackupLog row \(id)") }
            change(m)
            try await m.save(on: self.database)
        }
    }

    /// Sets (or adds) a backup's copy in one location.
    func setCopy(_ id: UUID, location: String, role: LocationRole, status: CopyStatus, verifiedAt: Date?, error: String?) async throws {
        try await perform("record a copy") {
            let existing = try await BackupCopyModel.query(on: self.database).filter(\.$backup.$id == id).filter(\.$location == location).first()
            let copy = existing ?? BackupCopyModel(backupID: id, location: location, role: role.rawValue, status: status)
            copy.status = status.rawValue
            copy.verifiedAt = verifiedAt
            copy.error = error
            try await copy.save(on: self.database)
        }
    }

    /// Earlier backups whose copy in `location` was pending and whose snapshot the location
    /// now holds become VERIFIED (the replication that found them there read each object
    /// back). Returns how many.
    @discardableResult
    public func settlePendingCopies(location: String, snapshotsPresent: Set<String>, at date: Date = Date()) async throws -> Int {
        try await perform("settle pending copies") {
            let pending = try await BackupCopyModel.query(on: self.database)
                .filter(\.$location == location).filter(\.$status == CopyStatus.pending.rawValue).with(\.$backup).all()
            var settled = 0
            for copy in pending {
                guard let snapshot = copy.backup.snapshotID, snapshotsPresent.contains(snapshot) else { continue }
                copy.status = CopyStatus.verified.rawValue
                copy.verifiedAt = date
                copy.error = nil
                try await copy.save(on: self.database)
                settled += 1
            }
            return settled
        }
    }

    /// Copies of these snapshots in `location` become FORGOTTEN.
    public func markForgotten(location: String, snapshots: [String]) async throws {
        guard !snapshots.isEmpty else { return }
        try await perform("record forgotten snapshots") {
            let logs = try await BackupLogModel.query(on: self.database).filter(\.$snapshotID ~~ snapshots).all()
            let ids = logs.compactMap(\.id)
            guard !ids.isEmpty else { return }
            try await BackupCopyModel.query(on: self.database)
                .filter(\.$backup.$id ~~ ids).filter(\.$location == location)
                .set(\.$status, to: CopyStatus.forgotten.rawValue).update()
        }
    }

    /// Extends a RUNNING row's lease to `duration` from `now`.
    public func renewLease(_ id: UUID, for duration: Duration, now: Date = Date()) async throws {
        try await update(id) { m in
            guard m.status == BackupStatus.running.rawValue else { return }
            m.leaseExpiresAt = now.addingTimeInterval(duration.seconds)
        }
    }

    /// Rows left RUNNING by a run that is gone become INTERRUPTED: their lease expired (a
    /// job that died inside a process that lives on, or a process on another host), or
    /// their owner is certainly gone from this host (no process with its pid and start
    /// time, or the host rebooted since). Returns how many.
    /// - Parameter host: this host's name, for the owner check.
    @discardableResult
    public func markInterrupted(host: String, at date: Date = Date()) async throws -> Int {
        try await perform("mark interrupted runs") {
            let running = try await BackupLogModel.query(on: self.database).filter(\.$status == BackupStatus.running.rawValue).all()
            var marked = 0
            for m in running {
                let owner = ProcessIdentity(
                    host: m.host, bootID: m.ownerBootID, pid: Int32(truncatingIfNeeded: m.pid), startTicks: m.ownerStartTicks.map { UInt64(bitPattern: $0) })
                let why: String
                if let expiry = m.leaseExpiresAt, expiry < date {
                    why = "its lease expired at \(ISO8601.format(expiry)) (owner \(owner))"
                } else if owner.isCertainlyGone(localHost: host) {
                    why = "its process (\(owner)) is gone"
                } else {
                    continue
                }
                m.status = BackupStatus.interrupted.rawValue
                m.finishedAt = date
                m.error = "the run stopped after stage \(m.stage ?? "start") without finishing: \(why)"
                try await m.save(on: self.database)
                marked += 1
            }
            return marked
        }
    }

    /// Records a restoration test in every row of the tested snapshot. Returns how many rows.
    @discardableResult
    public func recordRestoreTest(
        snapshotId: String, passed: Bool, durationSeconds: Double, details: String, location: String?, at date: Date = Date()
    ) async throws -> Int {
        try await perform("record the restoration test") {
            let rows = try await BackupLogModel.query(on: self.database).filter(\.$snapshotID == snapshotId).all()
            for m in rows {
                m.restoreTested = true
                m.restoreTestedAt = date
                m.restoreTestResult = passed ? "PASSED" : "FAILED"
                m.restoreTestSeconds = durationSeconds
                m.restoreTestDetails = details
                m.restoreTestLocation = location
                try await m.save(on: self.database)
            }
            return rows.count
        }
    }

    /// Records a verification of a location.
    public func recordLocationCheck(location: String, errors: Int, details: String?, at date: Date = Date()) async throws {
        let m = LocationCheckModel()
        m.location = location
        m.checkedAt = date
        m.errors = errors
        m.details = details
        try await perform("record the verification") { try await m.create(on: self.database) }
    }

    /// The newest verification of each location.
    public func lastLocationChecks() async throws -> [String: LocationCheck] {
        try await perform("read the verifications") {
            var newest: [String: LocationCheck] = [:]
            for m in try await LocationCheckModel.query(on: self.database).sort(\.$checkedAt, .ascending).all() {
                newest[m.location] = LocationCheck(location: m.location, checkedAt: m.checkedAt, errors: m.errors, details: m.details)
            }
            return newest
        }
    }

    // MARK: Reading

    /// Rows matching the filter, newest first, with their copies.
    public func backups(_ filter: BackupFilter = BackupFilter()) async throws -> [BackupRecord] {
        try await perform("read the BackupLog") {
            var query = BackupLogModel.query(on: self.database).with(\.$copies)
            if let source = filter.source { query = query.filter(\.$source == source) }
            if let status = filter.status { query = query.filter(\.$status == status.rawValue) }
            if let since = filter.since { query = query.filter(\.$startedAt >= since) }
            if let until = filter.until { query = query.filter(\.$startedAt < until) }
            if let type = filter.type { query = query.filter(\.$type == type) }
            if let snapshot = filter.snapshotId { query = query.filter(\.$snapshotID == snapshot) }
            query = query.sort(\.$startedAt, .descending)
            if let limit = filter.limit { query = query.limit(limit) }
            let prunes = try await self.lastPrunes()
            return try await query.all().map { BackupRecord($0, copies: $0.copies).withPrunes(prunes) }
        }
    }

    public func backup(id: UUID) async throws -> BackupRecord? {
        try await perform("read the BackupLog") {
            guard let m = try await BackupLogModel.query(on: self.database).filter(\.$id == id).with(\.$copies).first() else { return nil }
            return BackupRecord(m, copies: m.copies).withPrunes(try await self.lastPrunes())
        }
    }

    /// The snapshots each location held by the catalog's record (copies VERIFIED there, or
    /// found there PRESENT by `catalog rebuild`, and not FORGOTTEN since), by location name:
    /// the catalog as a witness of what a location should still hold.
    public func snapshotsRecordedByLocation() async throws -> [String: Set<String>] {
        try await perform("read the BackupLog") {
            let copies = try await BackupCopyModel.query(on: self.database)
                .filter(\.$status ~~ [CopyStatus.verified.rawValue, CopyStatus.present.rawValue]).with(\.$backup).all()
            var out: [String: Set<String>] = [:]
            for copy in copies {
                guard let snapshot = copy.backup.snapshotID else { continue }
                out[copy.location, default: []].insert(snapshot)
            }
            return out
        }
    }

    /// The snapshot ids some row records.
    public func recordedSnapshots() async throws -> Set<String> {
        try await perform("read the BackupLog") {
            Set(try await BackupLogModel.query(on: self.database).field(\.$id).field(\.$snapshotID).all().compactMap(\.snapshotID))
        }
    }

    /// Runs a catalog operation, naming what failed in the error.
    func perform<T: Sendable>(_ what: String, _ body: @Sendable () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError.failed(what, String(reflecting: error))
        }
    }
}

/// Fluent's own record of applied migrations.
final class MigrationLog: Model, @unchecked Sendable {
    static let schema = "_fluent_migrations"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "batch") var batch: Int
    init() {}
}
