import Foundation

/// What a database backup records about the database, so a restore can be checked
/// against it (DESIGN §3: "SQLite page count and per-table row counts").
public struct DatabaseFacts: Codable, Sendable, Equatable {
    /// `sqlite`.
    public var engine: String
    /// Bytes per page.
    public var pageSize: Int
    /// Pages in the database.
    public var pageCount: Int
    /// Rows per table at the instant of the backup.
    public var tableRows: [String: Int64]
    /// `integrity_check` (FULL) or `quick_check` (INCREMENTAL), and its answer.
    public var check: String
    /// The check's answer: `ok` or what it found.
    public var checkResult: String

    /// Facts as read from a database.
    public init(engine: String, pageSize: Int, pageCount: Int, tableRows: [String: Int64], check: String, checkResult: String) {
        self.engine = engine
        self.pageSize = pageSize
        self.pageCount = pageCount
        self.tableRows = tableRows
        self.check = check
        self.checkResult = checkResult
    }
}

/// A live SQLite database (WAL mode or rollback journal) as a backup source.
///
/// The online backup API copies every page in one step into a scratch file: one
/// consistent read, whatever writers do meanwhile (they wait on the read lock for at most
/// the length of the copy, or in WAL mode not at all). The copy is then checked
/// (`integrity_check`, or `quick_check` for INCREMENTAL) and counted, and it is the copy
/// that is backed up, so what is checked is exactly what is stored.
public struct SQLiteSource: BackupSource {
    /// The live database file.
    public let path: String

    /// The database at `path`.
    public init(path: String) {
        self.path = path
    }

    /// `sqlite`.
    public var kind: SourceKind { .sqlite }

    /// A checked consistent copy of the database, and what was learnt about it.
    public struct Copy: Sendable {
        /// The copy, in a scratch directory.
        public let path: String
        /// The copy's page count, rows per table and check result.
        public let facts: DatabaseFacts
    }

    /// Makes the consistent copy in a scratch directory of its own and checks it
    /// (`integrity_check` for FULL, `quick_check` for INCREMENTAL): the copy is what is backed up.
    /// - Throws: ``BackupError/sourceNotFound(_:)``, or ``SQLiteSourceError`` when the database cannot be read or fails its check.
    public func check(_ context: BackupSourceContext) async throws -> any CheckedBackupSource {
        let path = try FilesSource.normalize([path])[0]
        // The type decides the check's depth, so it is settled before the copy is made.
        let type = try await context.resolveType(.sqlite(path), [path])
        let scratch = context.scratchDirectory + "/lifeboat-sqlite-\(Digest256.random().hex.prefix(12))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            // SQLite's online backup and its integrity check read the whole file: on the blocking pool.
            let copy = try await BlockingIOQueue.run { try SQLiteSource(path: path).consistentCopy(in: scratch, thorough: type == .full) }
            return CheckedCopy(path: path, copy: copy, scratch: scratch, type: type)
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)  // scratch copy: nothing to keep
            throw error
        }
    }

    /// The checked copy, backed up in the database file's name and place.
    struct CheckedCopy: CheckedBackupSource {
        let path: String
        let copy: Copy
        let scratch: String
        let type: BackupType?

        var source: Snapshot.Source { .sqlite(path) }
        var paths: [String] { [path] }

        var preCheck: Snapshot.CheckOutcome {
            Snapshot.CheckOutcome(
                passed: true, details: "\(copy.facts.check): \(copy.facts.checkResult); \(copy.facts.pageCount) pages of \(copy.facts.pageSize) bytes")
        }

        func start(after parent: Snapshot?) async throws -> BackupSourceRead {
            var selection = FileSelection(paths: [path])
            selection.contentSubstitutes = [path: copy.path]
            selection.database = copy.facts
            return .files(selection)
        }

        func discard() {
            try? FileManager.default.removeItem(atPath: scratch)  // scratch copy: nothing to keep
        }
    }

    /// Makes and checks the consistent copy in `scratchDirectory`.
    /// - Throws: ``SQLiteSourceError/integrityCheckFailed(_:_:)`` when the check does not say "ok".
    public func consistentCopy(in scratchDirectory: String, thorough: Bool) throws -> Copy {
        guard FileManager.default.fileExists(atPath: path) else { throw BackupError.sourceNotFound(path) }
        let handle = FileHandle(forReadingAtPath: path)
        let header = (try? handle?.read(upToCount: 16)) ?? nil
        try? handle?.close()  // read-only handle: nothing to lose on close
        guard let header, header.elementsEqual(Array("SQLite format 3\0".utf8)) else { throw SQLiteSourceError.notADatabase(path) }
        let copyPath = scratchDirectory + "/" + URL(fileURLWithPath: path).lastPathComponent
        try? FileManager.default.removeItem(atPath: copyPath)  // a leftover from an earlier run is ours to replace
        do {
            let source = try SQLiteConnection(path: path, readOnly: false)
            let copy = try SQLiteConnection(path: copyPath, readOnly: false, create: true)
            try source.backup(into: copy)
        }
        let facts = try Self.facts(of: copyPath, thorough: thorough)
        guard facts.checkResult == "ok" else {
            try? FileManager.default.removeItem(atPath: copyPath)  // the error says what matters
            throw SQLiteSourceError.integrityCheckFailed(path, facts.checkResult)
        }
        return Copy(path: copyPath, facts: facts)
    }

    /// Page size, page count, rows per table and the chosen check of a database file.
    public static func facts(of path: String, thorough: Bool) throws -> DatabaseFacts {
        // Read-write although nothing is written: a read-only connection to a WAL-mode file
        // cannot remove the -wal and -shm files it creates when it closes.
        let db = try SQLiteConnection(path: path, readOnly: false)
        let check = thorough ? "integrity_check" : "quick_check"
        let result = try db.rows("PRAGMA \(check)").compactMap { $0.first ?? nil }.joined(separator: "; ")
        var rows: [String: Int64] = [:]
        for table in try db.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").compactMap({ $0.first ?? nil }) {
            rows[table] = try db.integer("SELECT count(*) FROM \(SQLiteConnection.quote(table))")
        }
        return DatabaseFacts(
            engine: "sqlite", pageSize: Int(try db.integer("PRAGMA page_size")), pageCount: Int(try db.integer("PRAGMA page_count")),
            tableRows: rows, check: check, checkResult: result)
    }
}
