import Foundation

extension SQLiteSource {
    /// The first column of the first row of `sql` run on the database at `path`, as text
    /// (nil for NULL or no row). The connection is query-only: a check never writes.
    /// - Throws: ``SQLiteSourceError`` when the file does not open or the query fails.
    public static func firstValue(of sql: String, in path: String) throws -> String? {
        // Read-write for the reason facts(of:) gives; `query_only` refuses every write.
        let db = try SQLiteConnection(path: path, readOnly: false)
        try db.execute("PRAGMA query_only = ON")
        return try db.rows(sql).first?.first ?? nil
    }
}
