import FluentKit
import Foundation
import SQLKit

/// How writers of one catalog wait for each other, across connections and processes (the
/// daemon's jobs, the API's requests and a CLI command beside them each open their own).
///
/// SQLite: the file is in WAL mode, so that readers and the one writer never wait for each
/// other; every connection waits ``sqliteBusyTimeout`` for the write lock before answering
/// "database is locked"; and a transaction that reads then writes takes the write lock when
/// it begins (``writeTransaction(_:)``). A deferred transaction (`BEGIN`) would take only a
/// read lock, and when it later asked for the write lock while another connection was
/// writing, SQLite would answer "database is locked" at once without waiting (waiting could
/// deadlock; in WAL mode its snapshot may also be stale by then).
extension Catalog {
    /// How long a statement waits for another connection's write before failing.
    static let sqliteBusyTimeout: Duration = .seconds(5)

    /// Sets up the catalog's SQLite connection: the busy timeout, then WAL mode.
    ///
    /// The catalog's pool keeps exactly one connection (one event loop, one connection per
    /// loop) for its whole life, the one this configures. WAL mode is a property of the file:
    /// once set, every connection that opens it uses it, this release's or another's.
    /// - Throws: SQLite's error when a pragma fails.
    static func configureSQLite(_ database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        let milliseconds = Int(sqliteBusyTimeout / .milliseconds(1))
        try await sql.raw("PRAGMA busy_timeout = \(unsafeRaw: String(milliseconds))").run()
        // Answers the mode now in force: "wal", or the old mode where the file system offers
        // no shared memory; the catalog is then still correct, its writers only wait longer.
        _ = try await sql.raw("PRAGMA journal_mode = WAL").all()
    }

    /// Runs `body` in a transaction that holds the catalog's write lock from its start: for
    /// bodies that read and then write (a claim, an append to a chain, a check then an update).
    ///
    /// SQLite: `BEGIN IMMEDIATE`, which waits for another writer up to the busy timeout.
    /// PostgreSQL: a transaction-scoped advisory lock, so that two claims or two appends
    /// there never interleave their read and their write either.
    ///
    /// `body` runs on the transaction's connection, which it gets as its argument, and must
    /// do all its work through it: the catalog's pool has one connection, held by the
    /// transaction until it ends, so a call on the catalog inside `body` would wait for that
    /// connection until the pool gave up. Nor may `body` begin a transaction of its own.
    /// - Throws: what `body` throws (the transaction is then rolled back), or the database's error.
    func writeTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        switch location {
        case .sqlite:
            return try await database.withConnection { db in
                guard let sql = db as? any SQLDatabase else { throw CatalogError.failed("begin a transaction", "not an SQL database") }
                try await sql.raw("BEGIN IMMEDIATE").run()
                do {
                    let result = try await body(db)
                    try await sql.raw("COMMIT").run()
                    return result
                } catch {
                    // ROLLBACK fails only when SQLite has ended the transaction itself (after
                    // an I/O or disk-full error): the error that matters is the one thrown.
                    try? await sql.raw("ROLLBACK").run()
                    throw error
                }
            }
        case .postgres:
            return try await database.transaction { db in
                guard let sql = db as? any SQLDatabase else { throw CatalogError.failed("begin a transaction", "not an SQL database") }
                try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: Self.postgresWriteLockKey))").run()
                return try await body(db)
            }
        }
    }

    /// The advisory lock key of the catalog's write transactions: "Lifeboat" in ASCII.
    static let postgresWriteLockKey: Int64 = 0x4C69_6665_626F_6174
}
