import CLibPQ
import Foundation

/// One libpq session with a PostgreSQL server.
///
/// A base backup needs one session from `pg_backup_start` to `pg_backup_stop` (a
/// non-exclusive backup ends with its session), so this is a session, not a pool. libpq
/// blocks, so every call runs on the blocking-I/O threads, never on the cooperative pool.
/// Values travel as text; parameters are sent separately from the SQL (`PQexecParams`),
/// never spliced into it.
public final class PostgreSQLConnection: @unchecked Sendable {
    // @unchecked: the PGconn is used by one call at a time; every public method is async
    // and the callers (a backup, a check) await each call before making the next.
    private let connection: OpaquePointer
    /// The URL with any password removed, for messages.
    public let displayURL: String

    private init(connection: OpaquePointer, displayURL: String) {
        self.connection = connection
        self.displayURL = displayURL
    }

    deinit { PQfinish(connection) }

    /// Connects with a libpq connection string or URL (`postgresql://user@host:port/db`).
    /// - Parameter password: sent with the connection's parameters: never through the
    ///   process's environment (`PGPASSWORD`), which a daemon shares with every job.
    /// - Throws: ``PostgreSQLSourceError/cannotConnect(_:_:)`` with the server's message.
    public static func connect(_ url: String, password: String? = nil, applicationName: String = "lifeboat") async throws -> PostgreSQLConnection {
        var parameters = [("dbname", url), ("application_name", applicationName), ("connect_timeout", "10")]
        if let password { parameters.append(("password", password)) }
        // expand_dbname: the dbname value may be a whole URL or key=value string.
        return try await connect(parameters: parameters, expandingDatabaseName: true, display: redact(url))
    }

    /// Connects with libpq's keywords and values (`host`, `port`, `user`, `dbname`), each
    /// passed as it is: a value is never quoted into a connection string, so no value
    /// (a database name with a quote or a backslash) can add or change a parameter.
    public static func connect(parameters: [(String, String)]) async throws -> PostgreSQLConnection {
        let all = parameters + [("application_name", "lifeboat"), ("connect_timeout", "10")]
        let display = parameters.filter { $0.0 != "password" }.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        return try await connect(parameters: all, expandingDatabaseName: false, display: display)
    }

    private static func connect(parameters: [(String, String)], expandingDatabaseName: Bool, display: String) async throws -> PostgreSQLConnection {
        try await BlockingIOQueue.run {
            let conn = withCStrings(parameters.map(\.0)) { k in
                withCStrings(parameters.map(\.1)) { v in PQconnectdbParams(k, v, expandingDatabaseName ? 1 : 0) }
            }
            guard let conn else { throw PostgreSQLSourceError.cannotConnect(display, "out of memory") }
            guard PQstatus(conn) == CONNECTION_OK else {
                let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
                PQfinish(conn)
                throw PostgreSQLSourceError.cannotConnect(display, message)
            }
            return PostgreSQLConnection(connection: conn, displayURL: display)
        }
    }

    /// Runs one statement and returns its rows as text (`nil` for SQL NULL).
    /// - Throws: ``PostgreSQLSourceError/queryFailed(_:_:)`` with the server's message.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) async throws -> [[String?]] {
        try await BlockingIOQueue.run { [self] in try self.run(sql, parameters) }
    }

    /// The first column of the first row, or nil.
    public func value(_ sql: String, _ parameters: [String?] = []) async throws -> String? {
        try await query(sql, parameters).first?.first ?? nil
    }

    private func run(_ sql: String, _ parameters: [String?]) throws -> [[String?]] {
        let result: OpaquePointer? = withOptionalCStrings(parameters) { params in
            PQexecParams(connection, sql, Int32(parameters.count), nil, params, nil, nil, 0)
        }
        guard let result else {
            throw PostgreSQLSourceError.queryFailed(sql, String(cString: PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return []
        case PGRES_TUPLES_OK:
            var rows: [[String?]] = []
            let columns = PQnfields(result)
            for r in 0..<PQntuples(result) {
                var row: [String?] = []
                for c in 0..<columns {
                    row.append(PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c)))
                }
                rows.append(row)
            }
            return rows
        default:
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PostgreSQLSourceError.queryFailed(sql, message)
        }
    }

    /// `postgresql://user:secret@host/db` → `postgresql://user@host/db`; `password=…` dropped.
    static func redact(_ url: String) -> String {
        if let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") {
            let userInfo = url[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                return String(url[..<colon]) + String(url[at...])
            }
            return url
        }
        return url.split(separator: " ").filter { !$0.hasPrefix("password=") }.joined(separator: " ")
    }
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { copy in copy.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
