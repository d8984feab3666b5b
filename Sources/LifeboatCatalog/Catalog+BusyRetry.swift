import FluentKit
import Foundation
import SQLiteNIO

extension Catalog {
    /// Runs `body` in a transaction, again when SQLite refused it as busy. A transaction that
    /// reads then writes (a claim, a check then an update) asks for the write lock while it
    /// holds a read lock; when another connection is already writing, SQLite answers "database
    /// is locked" at once rather than wait (waiting could deadlock), and rolls the transaction
    /// back: running it again once the other writer is done is what waiting would have done.
    /// The daemon's jobs and the API's each write through their own connection.
    func busyRetryingTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        try await busyRetrying { try await self.database.transaction(body) }
    }

    /// Runs `body` again when SQLite refused one of its statements as busy, as
    /// ``busyRetryingTransaction(_:)`` does, but without a transaction: for bodies whose
    /// statements may each be run again (a delete, a find then an update of one row).
    func busyRetrying<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch let error as SQLiteError where error.reason == .busy && attempt < 50 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(min(20 * attempt, 500)))
            }
        }
    }
}
