import Dispatch
import Foundation
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

@Suite("SQLite backups")
struct SQLiteBackupTests {
    /// A database with two tables and an index, about `rows` orders.
    func makeDatabase(_ path: String, wal: Bool, rows: Int = 5000) throws {
        let db = try SQLiteConnection(path: path, readOnly: false, create: true)
        try db.execute("PRAGMA journal_mode=\(wal ? "WAL" : "DELETE")")
        try db.execute("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INT, note TEXT); CREATE INDEX orders_customer ON orders(customer)")
        try db.execute("BEGIN")
        for i in 0..<rows {
            try db.execute("INSERT INTO orders(customer, note) VALUES(\(i % 97), 'order \(i) \(String(repeating: "x", count: i % 200))')")
            if i % 10 == 0 { try db.execute("INSERT INTO customers(name) VALUES('customer \(i)')") }
        }
        try db.execute("COMMIT")
    }

    /// Inserts rows in small transactions on a thread of its own until stopped. Its errors
    /// are kept and rethrown: a writer that silently failed would prove nothing.
    final class Writer: Sendable {
        private struct State {
            var stopped = false
            var commits = 0
            var failure: String?
        }
        private let state = Mutex(State())
        private let firstCommit = DispatchSemaphore(value: 0)
        private let finished = DispatchSemaphore(value: 0)

        init(path: String) {
            let thread = Thread { [self] in
                do {
                    let db = try SQLiteConnection(path: path, readOnly: false)
                    var i = 0
                    while !state.withLock({ $0.stopped }) {
                        try db.execute("BEGIN; INSERT INTO orders(customer, note) VALUES(\(i % 97), 'live \(i)'); INSERT INTO customers(name) VALUES('live \(i)'); COMMIT")
                        i += 1
                        state.withLock { $0.commits = i }
                        if i == 1 { firstCommit.signal() }
                    }
                } catch {
                    state.withLock { $0.failure = "\(error)" }
                    firstCommit.signal()
                }
                finished.signal()
            }
            thread.start()
        }

        struct Failed: Error, CustomStringConvertible { let description: String }

        /// Returns once the writer committed its first transaction (or failed).
        func waitForFirstCommit() throws {
            firstCommit.wait()
            if let failure = state.withLock({ $0.failure }) { throw Failed(description: "the writer failed: \(failure)") }
        }

        /// Stops the writer; returns how many transactions it committed.
        func stop() throws -> Int {
            state.withLock { $0.stopped = true }
            finished.wait()
            let s = state.withLock { $0 }
            if let failure = s.failure { throw Failed(description: "the writer failed after \(s.commits) commits: \(failure)") }
            return s.commits
        }
    }

    @Test("a live database (WAL and rollback journal) is backed up as one consistent read while a writer writes", arguments: [true, false])
    func liveBackup(wal: Bool) async throws {
        let scratch = ScratchDirectory()
        let dbPath = try scratch.sub("app") + "/app.db"
        try makeDatabase(dbPath, wal: wal)
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let writer = Writer(path: dbPath)
        try writer.waitForFirstCommit()
        let options = BackupOptions(paths: [], host: "testhost", username: "tester")
        let result = try await SourceBackup(repository: repo).backup(SQLiteSource(path: dbPath), options: options.scratch(scratch.path))
        let commits = try writer.stop()
        #expect(commits > 0)
        let facts = try #require(result.snapshot.database)
        #expect(facts.checkResult == "ok")
        #expect(facts.check == "integrity_check")
        #expect(result.snapshot.type == .full)
        #expect(result.snapshot.source == .sqlite(dbPath))
        #expect(result.snapshot.checks.pre?.passed == true)
        // One consistent read: the two tables were written in the same transactions.
        let orders = try #require(facts.tableRows["orders"])
        let customers = try #require(facts.tableRows["customers"])
        #expect(orders - 5000 == customers - 500, "orders \(orders), customers \(customers)")
        #expect(orders > 5000, "the backup holds the writer's transactions committed before it began")

        let target = scratch.path + "/restored.db"
        let restored = try await DatabaseRestorer(repository: repo).restoreSQLite(
            SnapshotEntry(id: result.snapshotID, snapshot: result.snapshot), to: target, force: false)
        #expect(restored.facts.tableRows == facts.tableRows)
        #expect(restored.facts.checkResult == "ok")
    }

    @Test("an INCREMENTAL backup after a few changed rows stores a few pages, and uses quick_check")
    func incrementalPages() async throws {
        let scratch = ScratchDirectory()
        let dbPath = try scratch.sub("app") + "/app.db"
        try makeDatabase(dbPath, wal: true, rows: 20000)
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let options = BackupOptions(paths: [], host: "testhost", username: "tester")
        let first = try await SourceBackup(repository: repo).backup(SQLiteSource(path: dbPath), options: options.scratch(scratch.path))
        let db = try SQLiteConnection(path: dbPath, readOnly: false)
        try db.execute("UPDATE orders SET note = 'changed' WHERE id IN (10, 5000, 15000)")
        let second = try await SourceBackup(repository: repo).backup(SQLiteSource(path: dbPath), options: options.scratch(scratch.path))
        #expect(second.snapshot.type == .incremental)
        #expect(second.snapshot.database?.check == "quick_check")
        let size = try #require(first.snapshot.database).pageCount * 4096
        #expect(second.snapshot.statistics.bytesAdded < Int64(size / 10), "added \(second.snapshot.statistics.bytesAdded) of a \(size)-byte database")
    }

    @Test("a database that fails its integrity check is not backed up and nothing is written")
    func corruptDatabase() async throws {
        let scratch = ScratchDirectory()
        let dbPath = try scratch.sub("app") + "/app.db"
        try makeDatabase(dbPath, wal: false, rows: 20000)
        // Scribble over the middle of the file: b-tree pages, not the header.
        var bytes = Array(FileManager.default.contents(atPath: dbPath)!)
        for i in stride(from: bytes.count / 2, to: bytes.count / 2 + 8192, by: 7) { bytes[i] ^= 0x5a }
        try Data(bytes).write(to: URL(fileURLWithPath: dbPath))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let before = TestRepository.allObjects(at: scratch.path + "/repo")
        await #expect(throws: SQLiteSourceError.self) {
            try await SourceBackup(repository: repo).backup(SQLiteSource(path: dbPath), options: BackupOptions(paths: [], host: "h", username: "u").scratch(scratch.path))
        }
        #expect(TestRepository.allObjects(at: scratch.path + "/repo") == before)
    }

    @Test("restore refuses an existing or open target unless forced, and then replaces it cleanly")
    func restoreTargets() async throws {
        let scratch = ScratchDirectory()
        let dbPath = try scratch.sub("app") + "/app.db"
        try makeDatabase(dbPath, wal: true)
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let result = try await SourceBackup(repository: repo).backup(SQLiteSource(path: dbPath), options: BackupOptions(paths: [], host: "h", username: "u").scratch(scratch.path))
        let entry = SnapshotEntry(id: result.snapshotID, snapshot: result.snapshot)
        let target = scratch.path + "/target.db"
        try makeDatabase(target, wal: true, rows: 10)
        var open: SQLiteConnection? = try SQLiteConnection(path: target, readOnly: false)
        _ = try open?.rows("SELECT count(*) FROM orders")
        await #expect {
            try await DatabaseRestorer(repository: repo).restoreSQLite(entry, to: target, force: false)
        } throws: { error in
            if case SQLiteSourceError.targetInUse = error { return true }
            return false
        }
        let restored = try await DatabaseRestorer(repository: repo).restoreSQLite(entry, to: target, force: true)
        #expect(restored.facts.tableRows["orders"] == 5000)
        open = nil  // the old database's last connection goes; it must not leave files behind for the new one
        #expect(try SQLiteSource.facts(of: target, thorough: true).tableRows["orders"] == 5000)
        let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("target.db") }
        #expect(files == ["target.db"], "no stale -wal or temporary file is left: \(files)")
    }
}

extension BackupOptions {
    /// The same options with the database's copy made in `directory`.
    func scratch(_ directory: String) -> BackupOptions {
        var options = self
        options.scratchDirectory = directory
        return options
    }
}
