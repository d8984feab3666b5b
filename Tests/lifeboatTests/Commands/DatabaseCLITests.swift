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
        #expect(backup["sourceKind"] as? String == "sqlite")
        #expect(backup["source"] is NSNull, "a plain backup names no configured source: \(backup)")
        #expect(((backup["database"] as? [String: Any])?["tableRows"] as? [String: Int])?["t"] == 3000)

        let list = try #require(try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [[String: Any]])
        #expect(list.first?["sourceKind"] as? String == "sqlite")
        #expect(list.first?["sourcePath"] as? String == dbPath)

        let target = scratch.path + "/restored.db"
        let restored = try cli.run(["restore-db", "latest", "--sqlite-target", target, "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(((try LifeboatCLI.json(restored) as? [String: Any])?["integrityCheck"] as? String) == "ok")
        let again = try cli.run(["restore-db", "latest", "--sqlite-target", target])
        #expect(again.status == 1)
        #expect(again.stderr.contains("--force"))
        #expect(try cli.run(["backup", "--sqlite", dbPath, "somepath"]).status == 64)
    }

    @Test("restore-db latest --source NAME restores that source's newest database, not the newest of all")
    func latestOfSource() throws {
        let scratch = ScratchDirectory()
        var paths: [String: String] = [:]
        for (name, rows) in [("orders", 300), ("users", 70)] {
            let path = try scratch.sub(name) + "/\(name).db"
            let made = try Shell.run("/usr/bin/env", ["python3", "-c", """
                import sqlite3; db = sqlite3.connect('\(path)')
                db.execute('CREATE TABLE t(id INTEGER PRIMARY KEY)')
                db.executemany('INSERT INTO t(id) VALUES(?)', [(i,) for i in range(\(rows))]); db.commit()
                """])
            try #require(made.status == 0, "\(made.stderr)")
            paths[name] = path
        }
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", "--sqlite", paths["orders"]!, "--tag", "source:orders"]).status == 0)
        #expect(try cli.run(["backup", "--sqlite", paths["users"]!, "--tag", "source:users"]).status == 0)
        let restored = try cli.run(["restore-db", "latest", "--source", "orders", "--sqlite-target", scratch.path + "/r.db", "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let rows = ((try LifeboatCLI.json(restored) as? [String: Any])?["tableRows"] as? [String: Int])?["t"]
        #expect(rows == 300, "the orders database, not the newer users one: \(restored.stdout)")
        let users = try #require((try LifeboatCLI.json(try cli.run(["snapshots", "--json", "--source", "users"])) as? [[String: Any]])?.first?["id"] as? String)
        let refused = try cli.run(["restore-db", users, "--source", "orders", "--sqlite-target", scratch.path + "/u.db"])
        #expect(refused.status == 1 && refused.stderr.contains("is not of source 'orders'"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/u.db"))
    }
}
