import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Proves that a PostgreSQL backup restores: its base backup and the archived WAL go into
/// a scratch cluster on a free loopback port with archiving off, the cluster is started
/// and recovered, each table's rows are counted in every database (or a check query is
/// run), and the cluster is stopped and removed, whatever happened.
///
/// The scratch cluster listens on 127.0.0.1 and a socket in a 0700 folder; a `local ...
/// trust` line is put first in its pg_hba.conf so lifeboat can connect without the
/// production credentials, and only its OS user (or root) can reach that socket.
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
        guard mkdir(sandbox, 0o755) == 0 else { throw FileSystemError("mkdir", RawPath(sandbox), errno: errno) }
        defer { try? FileManager.default.removeItem(atPath: sandbox) }  // the sandbox is scratch by definition
        let dataDirectory = sandbox + "/data"
        let socketDirectory = sandbox + "/socket"
        guard mkdir(socketDirectory, 0o700) == 0 else { throw FileSystemError("mkdir", RawPath(socketDirectory), errno: errno) }

        let port = try PostgreSQLServer.freePort()
        var options = PostgreSQLRestorer.Options(dataDirectory: dataDirectory, restoreCommand: restoreCommand)
        options.keepsArchiving = false
        options.socketDirectory = socketDirectory
        // Restored, not started: the trust line must be in pg_hba.conf before the start.
        let restorer = PostgreSQLRestorer(repository: repository)
        let restored = try await restorer.restore(entry, options: options)
        var st = stat()
        if geteuid() == 0 && stat(dataDirectory, &st) == 0 { chown(socketDirectory, st.st_uid, st.st_gid) }
        // A cluster whose configuration lives outside its data directory (Debian's
        // /etc/postgresql) starts here on the defaults plus postgresql.auto.conf.
        if !FileManager.default.fileExists(atPath: dataDirectory + "/postgresql.conf") {
            try PostgreSQLRestorer.writeFile(dataDirectory + "/postgresql.conf", "", ownerLike: dataDirectory)
        }
        let hba = dataDirectory + "/pg_hba.conf"
        let original = (try? String(contentsOfFile: hba, encoding: .utf8)) ?? ""
        try PostgreSQLRestorer.writeFile(hba, "local all all trust\n" + original, ownerLike: dataDirectory)

        var server = try PostgreSQLServer(dataDirectory: dataDirectory)
        server.environment.merge(serverEnvironment) { _, added in added }
        let log = sandbox + "/recovery.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)  // failure shows as pg_ctl failing to write its log
        if geteuid() == 0 { chown(log, st.st_uid, st.st_gid) }
        let clock = ContinuousClock()
        let recoveryStart = clock.now
        try await server.start(port: port, socketDirectory: socketDirectory, logFile: log)
        do {
            try await server.waitForRecovery(logFile: log, timeout: .seconds(3600))
            let recoverySeconds = (clock.now - recoveryStart).seconds
            var result = Result(
                snapshot: entry.id.hex, baseSnapshot: restored.base.id.hex, passed: true, details: "", restoreSeconds: restored.restoreSeconds + recoverySeconds,
                recoverySeconds: recoverySeconds, tableRows: [:], checkQueryResult: nil)
            let session = [("host", socketDirectory), ("port", "\(port)"), ("user", server.owner)]
            let conn = try await PostgreSQLConnection.connect(parameters: session + [("dbname", database)])
            let databases = try await conn.query(
                "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1").compactMap { $0.first ?? nil }
            for name in databases {
                let db = try await PostgreSQLConnection.connect(parameters: session + [("dbname", name)])
                let tables = try await db.query(
                    "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
                ).compactMap { $0.first ?? nil }
                for table in tables {
                    // `table` was quoted by the server's own format('%I'): safe to splice.
                    let count = try await db.value("SELECT count(*)::text FROM \(table)").flatMap { Int64($0) } ?? 0
                    result.tableRows["\(name).\(table)"] = count
                }
            }
            if let checkQuery {
                do {
                    result.checkQueryResult = try await conn.value(checkQuery) ?? "NULL"
                } catch {
                    result.passed = false
                    result.details = "the check query failed: \(error)"
                }
            }
            if result.passed {
                result.details = "recovered to \(restored.target); \(result.tableRows.count) tables counted in \(databases.count) databases"
            }
            try await server.stop(mode: "immediate")
            return result
        } catch {
            try? await server.stop(mode: "immediate")  // the failure that got us here is the one to report
            throw error
        }
    }
}
