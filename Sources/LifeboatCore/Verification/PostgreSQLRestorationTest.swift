import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Proves that a PostgreSQL backup restores: its base backup and the archived WAL go into
/// a scratch cluster on a free loopback port with archiving off (and the side-copy
/// marker, so that nothing it does reaches the archive), the cluster is started and
/// recovered along production's timeline, each table's rows are counted in every database
/// (or a check query is run), and the cluster is stopped and removed, whatever happened.
/// A backup that does not restore (damaged data, missing WAL, a server that does not
/// start or recover, a query that fails) is a result that did not pass, with the reason.
///
/// The scratch cluster listens on 127.0.0.1 and a socket in a 0700 folder; a `local ...
/// trust` line is put first in its pg_hba.conf so lifeboat can connect without the
/// production credentials, and only its OS user (or root) can reach that socket. Its
/// configuration files are written through ``RestoredDataDirectory``: a link in the
/// snapshot (a `pg_hba.conf -> /etc/shadow`) is replaced, never written through, and a
/// `postgresql.conf` that is not a regular file gives way to an empty one.
public struct PostgreSQLRestorationTest: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    public struct Result: Sendable, Codable {
        public var snapshot: String
        public var baseSnapshot: String
        public var passed: Bool
        public var details: String
        /// Writing the data directory plus recovery, in seconds.
        public var restoreSeconds: Double
        public var recoverySeconds: Double
        /// `database.schema.table` → rows.
        public var tableRows: [String: Int64]
        public var checkQueryResult: String?
    }

    /// - Parameters:
    ///   - scratchDirectory: a folder the scratch cluster may live in (it needs the backup's size).
    ///   - checkQuery: run in the `postgres` database (or the URL's) instead of only counting rows;
    ///     the test fails when it errors.
    ///   - serverEnvironment: what `restore_command` needs in the scratch server's environment.
    public func run(
        _ entry: SnapshotEntry, restoreCommand: @escaping @Sendable (String) -> String, scratchDirectory: String = NSTemporaryDirectory(), checkQuery: String? = nil,
        database: String = "postgres", serverEnvironment: [String: String] = [:]
    ) async throws -> Result {
        let sandbox = scratchDirectory + "/lifeboat-restore-test-\(Digest256.random().hex.prefix(12))"
        let dataDirectory = sandbox + "/data"
        let log = sandbox + "/recovery.log"
        try PostgreSQLServer.checkPassable(sandbox)
        guard mkdir(sandbox, 0o755) == 0 else { throw FileSystemError("mkdir", RawPath(sandbox), errno: errno) }
        // Scratch by definition; removed without following a link the scratch cluster's user made.
        defer { RestoredDataDirectory.removeTree(atPath: sandbox) }
        let socketDirectory = try Self.makeSocketFolder(in: sandbox)
        defer { if !socketDirectory.hasPrefix(sandbox + "/") { rmdir(socketDirectory) } }  // empty once the server stopped
        do {
            return try await restoreAndCheck(
                entry, restoreCommand: restoreCommand, dataDirectory: dataDirectory, socketDirectory: socketDirectory, log: log, checkQuery: checkQuery,
                database: database, serverEnvironment: serverEnvironment)
        } catch let error as PostgreSQLSourceError {
            return failed(entry, error)
        } catch let error as RestoreDatabaseError {
            return failed(entry, error)
        }
    }

    /// A 0700 folder for the scratch server's socket: in the sandbox when the socket's
    /// path fits a socket address (107 bytes) and libpq can take it as a `host` (which it
    /// splits at commas); else a folder of its own in /tmp.
    public static func makeSocketFolder(in sandbox: String) throws -> String {
        let inside = sandbox + "/socket"
        if (inside + "/.s.PGSQL.65535").utf8.count <= 107 && !inside.contains(",") {
            guard mkdir(inside, 0o700) == 0 else { throw FileSystemError("mkdir", RawPath(inside), errno: errno) }
            return inside
        }
        var template = Array("/tmp/lifeboat-socket-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw FileSystemError("mkdtemp", RawPath("/tmp/lifeboat-socket-XXXXXX"), errno: errno)
        }
        return String(cString: made)
    }

    /// A test that ran and found the backup does not restore.
    private func failed(_ entry: SnapshotEntry, _ error: any Error) -> Result {
        Result(
            snapshot: entry.id.hex, baseSnapshot: (entry.snapshot.type == .transactionLog ? entry.snapshot.parent : nil)?.hex ?? entry.id.hex, passed: false,
            details: "\(error)", restoreSeconds: 0, recoverySeconds: 0, tableRows: [:], checkQueryResult: nil)
    }

    /// A restored scratch cluster, started and recovered.
    public struct ScratchCluster: Sendable {
        public let restored: PostgreSQLRestorer.Result
        public let server: PostgreSQLServer
        public let port: Int
        public let socketDirectory: String
        /// `host`, `port` and `user` for ``PostgreSQLConnection/connect(parameters:)``:
        /// the socket, on which only the cluster's OS user (or root) is trusted.
        public var session: [(String, String)] { [("host", socketDirectory), ("port", "\(port)"), ("user", server.owner)] }
    }

    /// Restores `entry` into `dataDirectory` as a side copy (archiving off, the side-copy
    /// marker), trusts the socket in `socketDirectory` (made by ``makeSocketFolder(in:)``),
    /// starts it on a free loopback port and waits until recovery to `target` ended. The
    /// caller stops it (``PostgreSQLServer/stop(mode:)``); a failed start is stopped here.
    public func startScratch(
        _ entry: SnapshotEntry, target: PostgreSQLRestorer.RecoveryTarget = .endOfArchive, restoreCommand: @escaping @Sendable (String) -> String,
        dataDirectory: String, socketDirectory: String, log: String, serverEnvironment: [String: String] = [:]
    ) async throws -> ScratchCluster {
        let port = try PostgreSQLServer.freePort()
        var options = PostgreSQLRestorer.Options(dataDirectory: dataDirectory, restoreCommand: restoreCommand)
        options.socketDirectory = socketDirectory
        options.target = target
        // Restored, not started: the trust line must be in pg_hba.conf before the start.
        let restorer = PostgreSQLRestorer(repository: repository)
        let restored = try await restorer.restore(entry, options: options)
        let data = try RestoredDataDirectory(path: dataDirectory)
        let owner = data.owner
        if geteuid() == 0 { lchown(socketDirectory, owner.uid, owner.gid) }
        // A cluster whose configuration lives outside its data directory (Debian's
        // /etc/postgresql) starts here on the defaults plus postgresql.auto.conf; so does one
        // whose postgresql.conf is a link (to production's file, or anywhere).
        if data.read("postgresql.conf") == nil { try data.write("postgresql.conf", "") }
        try data.write("pg_hba.conf", "local all all trust\n" + (data.read("pg_hba.conf") ?? ""))

        var server = try PostgreSQLServer(dataDirectory: dataDirectory)
        server.environment.merge(serverEnvironment) { _, added in added }
        let logFD = open(log, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard logFD >= 0 else { throw FileSystemError("open", RawPath(log), errno: errno) }
        if geteuid() == 0 { fchown(logFD, owner.uid, owner.gid) }
        close(logFD)
        try await server.start(port: port, logFile: log)
        do {
            try await server.waitForRecovery(logFile: log, timeout: .seconds(3600))
        } catch {
            try? await server.stop(mode: "immediate")  // the failure that got us here is the one to report
            throw error
        }
        return ScratchCluster(
            restored: PostgreSQLRestorer.Result(
                base: restored.base, target: restored.target, restore: restored.restore, restoreSeconds: restored.restoreSeconds, recoverySeconds: nil,
                server: server, logFile: log, timeline: restored.timeline, replacedLinks: restored.replacedLinks + data.replacedLinks),
            server: server, port: port, socketDirectory: socketDirectory)
    }

    /// Rows of every table of every database a session reaches: `database.schema.table` → rows.
    public static func tableRows(session: [(String, String)]) async throws -> (databases: Int, rows: [String: Int64]) {
        let conn = try await PostgreSQLConnection.connect(parameters: session + [("dbname", "postgres")])
        let databases = try await conn.query(
            "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1").compactMap { $0.first ?? nil }
        var rows: [String: Int64] = [:]
        for name in databases {
            let db = try await PostgreSQLConnection.connect(parameters: session + [("dbname", name)])
            let tables = try await db.query(
                "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
            ).compactMap { $0.first ?? nil }
            for table in tables {
                // `table` was quoted by the server's own format('%I'): safe to splice.
                rows["\(name).\(table)"] = try await db.value("SELECT count(*)::text FROM \(table)").flatMap { Int64($0) } ?? 0
            }
        }
        return (databases.count, rows)
    }

    private func restoreAndCheck(
        _ entry: SnapshotEntry, restoreCommand: @escaping @Sendable (String) -> String, dataDirectory: String, socketDirectory: String, log: String,
        checkQuery: String?, database: String, serverEnvironment: [String: String]
    ) async throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let cluster = try await startScratch(
            entry, restoreCommand: restoreCommand, dataDirectory: dataDirectory, socketDirectory: socketDirectory, log: log, serverEnvironment: serverEnvironment)
        let restored = cluster.restored
        let replaced = restored.replacedLinks
        do {
            let recoverySeconds = (clock.now - started).seconds - restored.restoreSeconds
            var result = Result(
                snapshot: entry.id.hex, baseSnapshot: restored.base.id.hex, passed: true, details: "", restoreSeconds: restored.restoreSeconds + recoverySeconds,
                recoverySeconds: recoverySeconds, tableRows: [:], checkQueryResult: nil)
            let counted = try await Self.tableRows(session: cluster.session)
            result.tableRows = counted.rows
            if let checkQuery {
                do {
                    let conn = try await PostgreSQLConnection.connect(parameters: cluster.session + [("dbname", database)])
                    result.checkQueryResult = try await conn.value(checkQuery) ?? "NULL"
                } catch {
                    result.passed = false
                    result.details = "the check query failed: \(error)"
                }
            }
            if result.passed {
                result.details = "recovered to \(restored.target) on timeline \(restored.timeline); \(result.tableRows.count) tables counted in \(counted.databases) databases"
                if !replaced.isEmpty { result.details += "; links in the snapshot replaced, not followed: \(replaced.joined(separator: ", "))" }
            }
            try await cluster.server.stop(mode: "immediate")
            return result
        } catch {
            try? await cluster.server.stop(mode: "immediate")  // the failure that got us here is the one to report
            throw error
        }
    }
}
