import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat backup --sqlite and restore-db")
struct DatabaseCLITests {
    @Test("a SQLite database is backed up, listed with its source and restored with its checks")
    func sqliteRoundTrip() throws {
        let scratch = ScratchDirectory()
        let dbPath = try scratch.sub("app") + "/app.db"
        let made = try Shell.run("/usr/bin/env", ["python3", "-c", """
            import sqlite3; db = sqlite3.connect('\(dbPath)'); db.execute('PRAGMA journal_mode=WAL')
            db.execute('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)')
            db.executemany('INSERT INTO t(v) VALUES(?)', [('row %d' % i,) for i in range(3000)]); db.commit()
            """])
        try #require(made.status == 0, "making the database failed: \(made.stderr)")
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let out = try cli.run(["backup", "--sqlite", dbPath, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let backup = try #require(try LifeboatCLI.json(out) as? [String: Any])
        #expect(backup["source"] as? String == "sqlite")
        #expect(((backup["database"] as? [String: Any])?["tableRows"] as? [String: Int])?["t"] == 3000)

        let list = try #require(try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [[String: Any]])
        #expect(list.first?["source"] as? String == "sqlite")
        #expect(list.first?["sourceName"] as? String == dbPath)

        let target = scratch.path + "/restored.db"
        let restored = try cli.run(["restore-db", "latest", "--sqlite-target", target, "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(((try LifeboatCLI.json(restored) as? [String: Any])?["integrityCheck"] as? String) == "ok")
        let again = try cli.run(["restore-db", "latest", "--sqlite-target", target])
        #expect(again.status == 1)
        #expect(again.stderr.contains("--force"))
        #expect(try cli.run(["backup", "--sqlite", dbPath, "somepath"]).status == 64)
    }
}
