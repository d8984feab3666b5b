import CSQLite
import Foundation

/// A minimal handle on SQLite's C API: what backups and restore checks need.
final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    let path: String

    /// SQLITE_TRANSIENT: SQLite copies bound values.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(path: String, readOnly: Bool, create: Bool = false) throws {
        self.path = path
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create { flags |= SQLITE_OPEN_CREATE }
        let rc = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close(handle)
            handle = nil
            throw SQLiteSourceError.cannotOpen(path, message)
        }
        // Writers hold locks briefly; wait for them rather than failing at once.
        sqlite3_busy_timeout(handle, 10_000)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? lastError
            sqlite3_free(error)
            throw SQLiteSourceError.failed(path, sql, message)
        }
    }

    /// Every row of a query, each column as text (NULL as nil).
    func rows(_ sql: String) throws -> [[String?]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else { throw SQLiteSourceError.failed(path, sql, lastError) }
        defer { sqlite3_finalize(statement) }
        var out: [[String?]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw SQLiteSourceError.failed(path, sql, lastError) }
            let n = sqlite3_column_count(statement)
            out.append((0..<n).map { i in sqlite3_column_text(statement, i).map { String(cString: $0) } })
        }
        return out
    }

    func integer(_ sql: String) throws -> Int64 {
        guard let text = try rows(sql).first?.first ?? nil, let value = Int64(text) else {
            throw SQLiteSourceError.failed(path, sql, "no integer result")
        }
        return value
    }

    /// Copies the whole database into `destination` with the online backup API, in one step,
    /// so the copy is one consistent read even while other connections write.
    func backup(into destination: SQLiteConnection) throws {
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw SQLiteSourceError.failed(path, "backup", destination.lastError)
        }
        var rc: Int32
        repeat {
            rc = sqlite3_backup_step(backup, -1)
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { sqlite3_sleep(20) }
        } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
        let finish = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE, finish == SQLITE_OK else {
            throw SQLiteSourceError.failed(path, "backup", destination.lastError)
        }
    }

    var lastError: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection" }

    /// Double quotes for an identifier.
    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
