import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A restored PostgreSQL cluster is someone else's data directory: what its OS user put in
/// it (links), where its WAL went (another disk), what a copy of it does after its start
/// (a new timeline) and what its names hold (quotes, backslashes) must reach nothing of
/// production's and nothing of root's. Against real clusters, as in production.
@Suite("lifeboat restores PostgreSQL clusters without trusting them", .serialized, .enabled(if: ScratchPostgres.isAvailable, "no PostgreSQL server programs"))
struct PostgreSQLRestoreSafetyCLITests {
    typealias Setup = PostgreSQLCLITests.Setup

    /// A file's owner, mode and bytes, to compare before and after.
    struct FileState: Equatable {
        let uid: uid_t
        let mode: mode_t
        let bytes: Data?

        init(_ path: String) {
            var st = stat()
            _ = lstat(path, &st)
            uid = st.st_uid
            mode = st.st_mode
            bytes = FileManager.default.contents(atPath: path)
        }
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    static func isLink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK
    }

    /// The CLI as root when the tests run as root (as a restore does in production), else as this user.
    static func privileged(_ s: Setup) -> LifeboatCLI {
        var cli = s.cli
        cli.osUser = nil
        return cli
    }

    @Test("links in a restored cluster are replaced, never followed: restore-db and restore-test leave the file they point at as it was", .timeLimit(.minutes(5)))
    func linksAreNotFollowed() throws {
        let s = try Setup()
        try s.cluster.sql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS x")
        // Stands in for /etc/shadow: this process's own 0600 file in a folder the database's user cannot enter.
        let victimFolder = ScratchDirectory("victim")
        chmod(victimFolder.path, 0o700)
        let victim = victimFolder.path + "/shadow"
        try FileTree.write(victim, Array("root:$6$secret:19000:0:99999:7:::\n".utf8))
        try FileTree.chmod(victim, 0o600)
        let before = FileState(victim)
        // What the database's OS user can do in its own data directory (the running server
        // has read its configuration already; it is not restarted).
        // (Not the side-copy marker: under any form it stops production's own archiving, as it should.)
        let planted = ["pg_hba.conf", "postgresql.auto.conf", "recovery.signal", "standby.signal", "lifeboat-recovery.log"]
        for name in planted {
            let path = s.cluster.dataDirectory + "/" + name
            try? FileManager.default.removeItem(atPath: path)  // absent for most of them
            try FileTree.symlink(victim, at: path)
        }
        let full = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast"])
        try #require(full.status == 0, "\(full.stderr)")

        let root = Self.privileged(s)
        let pgdata = s.scratch.path + "/restored"
        let restored = try root.run(["restore-db", "latest", "--pgdata", pgdata, "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(FileState(victim) == before)
        let json = try #require(try LifeboatCLI.json(restored) as? [String: Any])
        let replaced = json["replacedLinks"] as? [String] ?? []
        for name in ["postgresql.auto.conf", "recovery.signal"] {
            #expect(Self.isRegularFile(pgdata + "/" + name), "\(name)")
            #expect(replaced.contains("\(name) -> \(victim)"), "\(replaced)")
        }
        #expect(Self.isRegularFile(pgdata + "/" + SideCopyMarker.fileName))
        #expect(!FileManager.default.fileExists(atPath: pgdata + "/standby.signal") && !Self.isLink(pgdata + "/standby.signal"))
        #expect(restored.stderr.contains("the snapshot holds the link postgresql.auto.conf -> \(victim)"), "\(restored.stderr)")
        if geteuid() == 0 {
            var st = stat()
            _ = lstat(pgdata + "/postgresql.auto.conf", &st)
            #expect(st.st_uid == getpwnam("postgres").pointee.pw_uid)
        }

        let test = try root.run(["restore-test", "latest", "--json"])
        #expect(test.status == 0, "\(test.stdout) \(test.stderr)")
        let report = try #require(try LifeboatCLI.json(test) as? [String: Any])
        #expect(report["passed"] as? Bool == true, "\(report)")
        #expect((report["details"] as? String)?.contains("pg_hba.conf -> \(victim)") == true, "\(report)")
        #expect((report["tableRows"] as? [String: Int])?["postgres.public.t"] == 1000)
        #expect(FileState(victim) == before)
    }

    @Test("a cluster whose pg_wal is a link (initdb --waldir) restores with a pg_wal of its own: a started copy and a restore test never write into production's WAL", .timeLimit(.minutes(5)))
    func walOutsideTheDataDirectory() throws {
        let s = try Setup(walOutside: true)
        let productionWal = s.cluster.folder + "/wal"
        try #require(Self.isLink(s.cluster.dataDirectory + "/pg_wal"))
        try s.cluster.sql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS x")
        let full = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast"])
        try #require(full.status == 0, "\(full.stderr)")

        let test = try s.cli.run(["restore-test", "latest", "--json"])
        #expect(test.status == 0, "\(test.stdout) \(test.stderr)")
        #expect((try LifeboatCLI.json(test) as? [String: Any])?["passed"] as? Bool == true)

        let (out, port, pgdata) = try s.restore([])
        defer { s.cluster.stop(dataDirectory: pgdata) }
        try #require(out.status == 0, "\(out.stderr)")
        #expect(Self.isDirectory(pgdata + "/pg_wal"))
        #expect(Self.isDirectory(pgdata + "/pg_wal/archive_status"))
        // The copy, promoted onto a timeline of its own, writes and switches segments.
        try s.cluster.sql("CREATE TABLE copy_only AS SELECT generate_series(1, 100000) AS x", port: port)
        try s.cluster.sql("SELECT pg_switch_wal()", port: port)
        try s.cluster.sql("CHECKPOINT", port: port)
        #expect(try s.cluster.sql("SELECT count(*) FROM t", port: port) == "1000")
        let names = try FileManager.default.contentsOfDirectory(atPath: productionWal)
        #expect(!names.contains(PostgreSQLRestorer.prefetchFolder), "\(names)")
        // Production never left timeline 1: anything else there came from a copy.
        #expect(names.allSatisfy { $0 == "archive_status" || $0 == "summaries" || $0.hasPrefix("00000001") }, "\(names.sorted())")
        let production = try s.cluster.sql("SELECT timeline_id FROM pg_control_checkpoint()")
        #expect(production == "1")
        let next = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast"])
        #expect(next.status == 0, "\(next.stderr)")
    }

    @Test(
        "a copy restored beside production does not archive, cannot push WAL, and a timeline a copy did archive is named by check and followed by no restore",
        .timeLimit(.minutes(10)))
    func sideRestoreLeavesProductionsArchiveAlone() throws {
        let s = try Setup()
        try s.cluster.sql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS x")
        let full = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast"])
        try #require(full.status == 0, "\(full.stderr)")
        let wait = try EventWait()
        try wait.watch(tree: s.cli.repository)
        func archivedTimelines() throws -> Set<Int> {
            let listed = try #require(try LifeboatCLI.json(try s.cli.run(["wal", "list", "--json"])) as? [[String: Any]])
            return Set(listed.compactMap { $0["timeline"] as? Int })
        }

        // A side copy as the README shows it: restore-db --start, written to, stopped.
        let sidePort = try ScratchPostgres.freePort()
        let side = s.scratch.path + "/side"
        let started = try s.cli.run(["restore-db", "latest", "--pgdata", side, "--start", "--port", "\(sidePort)", "--json"])
        try #require(started.status == 0, "\(started.stderr)")
        #expect(FileManager.default.fileExists(atPath: side + "/" + SideCopyMarker.fileName))
        try s.cluster.sql("CREATE TABLE side_only AS SELECT generate_series(1, 50000) AS x", port: sidePort)
        try s.cluster.sql("SELECT pg_switch_wal()", port: sidePort)
        #expect(try s.cluster.sql("SHOW archive_mode", port: sidePort) == "off")
        // A fast stop: an archiving cluster's archiver pushes what is ready before it ends.
        s.cluster.stop(dataDirectory: side, mode: "fast")
        #expect(try archivedTimelines() == [1])
        // Even with its archiving turned back on, the copy's WAL is refused.
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: side + "/pg_wal").first { WalFileName($0)?.isSegment == true })
        let push = try s.cli.run(["wal", "push", side + "/pg_wal/" + segment])
        #expect(push.status == 1)
        #expect(push.stderr.contains("refusing to archive WAL from a cluster restored as a copy beside production"), "\(push.stderr)")
        #expect(try archivedTimelines() == [1])

        // A copy that archives (made production on purpose, or restored by an older
        // version) puts timeline 2 into the repository: what the issue reproduced.
        let poisonPort = try ScratchPostgres.freePort()
        let poison = s.scratch.path + "/poison"
        let poisoned = try s.cli.run(["restore-db", "latest", "--pgdata", poison, "--start", "--port", "\(poisonPort)", "--as-production"])
        try #require(poisoned.status == 0, "\(poisoned.stderr)")
        #expect(!FileManager.default.fileExists(atPath: poison + "/" + SideCopyMarker.fileName))
        try s.cluster.sql("CREATE TABLE poison_only AS SELECT generate_series(1, 50000) AS x", port: poisonPort)
        let poisonSegment = try s.cluster.sql("SELECT pg_walfile_name(pg_switch_wal())", port: poisonPort)
        try wait.until("the copy's timeline 2 and its segment \(poisonSegment) to be archived") {
            let names = try s.cli.run(["wal", "list", "--json"]).stdout
            return names.contains("00000002.history") && names.contains(poisonSegment)
        }
        s.cluster.stop(dataDirectory: poison, mode: "fast")

        // Production goes on writing on timeline 1 and is backed up.
        try s.cluster.sql("INSERT INTO t SELECT generate_series(1001, 1500)")
        let log = try s.cli.run(["backup", "--postgres", s.cluster.url, "--type", "transaction-log"])
        try #require(log.status == 0, "\(log.stderr)")

        let check = try s.cli.run(["check"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("timeline 2 (wal/00000002/00000002.history"), "\(check.stdout)")
        #expect(check.stdout.contains("followed by no snapshot"), "\(check.stdout)")

        // The next restore of production follows production's timeline, not the copy's.
        let (out, port, pgdata) = try s.restore([])
        defer { s.cluster.stop(dataDirectory: pgdata) }
        try #require(out.status == 0, "\(out.stderr)")
        #expect((try LifeboatCLI.json(out) as? [String: Any])?["timeline"] as? Int == 1)
        #expect(try s.cluster.sql("SELECT count(*) FROM t", port: port) == "1500")
        #expect(try s.cluster.sql("SELECT count(*) FROM pg_tables WHERE tablename IN ('side_only', 'poison_only')", port: port) == "0")
        let latest = try s.cli.run(["restore-test", "latest", "--json"])
        #expect(latest.status == 0, "\(latest.stdout) \(latest.stderr)")
        let report = try #require(try LifeboatCLI.json(latest) as? [String: Any])
        #expect(report["passed"] as? Bool == true, "\(report)")
        #expect((report["tableRows"] as? [String: Int])?["postgres.public.t"] == 1500, "\(report)")
        // Asked for by name, the copy's timeline is followed (and has none of production's later rows).
        let (asked, askedPort, askedData) = try s.restore(["--timeline", "2"], snapshot: try #require(try Self.newestBase(s)))
        defer { s.cluster.stop(dataDirectory: askedData) }
        try #require(asked.status == 0, "\(asked.stderr)")
        #expect(try s.cluster.sql("SELECT count(*) FROM t", port: askedPort) == "1000")
    }

    @Test("names and paths reach PostgreSQL as values: a database name with a backslash and a quote redirects nothing; a socket folder with a space and a quote works; a path pg_ctl cannot take is refused first", .timeLimit(.minutes(5)))
    func valuesAreNotQuotedIntoStrings() async throws {
        let s = try Setup()
        let name = #"a\' host=127.0.0.2 port=1"#
        try s.cluster.sql("CREATE DATABASE \"\(name)\"")
        let session = [("host", "127.0.0.1"), ("port", "\(s.cluster.port)"), ("user", s.cluster.superuser)]
        let db = try await PostgreSQLConnection.connect(parameters: session + [("dbname", name)])
        try await db.query("CREATE TABLE x AS SELECT generate_series(1, 7) AS y")
        #expect(try await db.value("SELECT current_database()") == name)
        #expect(try await db.value("SELECT inet_server_addr()::text")?.hasPrefix("127.0.0.1") == true)
        // A name that does not exist: the server on 127.0.0.1 says so (redirected, it would be a refused connection to 127.0.0.2:1).
        do {
            _ = try await PostgreSQLConnection.connect(parameters: session + [("dbname", name + " missing")])
            Issue.record("connected to a database that does not exist")
        } catch {
            #expect("\(error)".contains("database \"\(name) missing\" does not exist"), "\(error)")
        }
        let full = try s.cli.run(["backup", "--postgres", s.cluster.url, "--checkpoint", "fast"])
        try #require(full.status == 0, "\(full.stderr)")

        // Short enough for the socket to live in the sandbox, and long enough (with a comma
        // libpq would split at) that it cannot.
        for scratch in [s.scratch.path + "/s p'q", s.scratch.path + "/scratch with space, a comma and 'quote' and a long name"] {
            try FileTree.mkdir(scratch)
            try ScratchPostgres.handOver(scratch)
            let test = try s.cli.run(["restore-test", "latest", "--scratch", scratch, "--json"])
            #expect(test.status == 0, "\(test.stdout) \(test.stderr)")
            let report = try #require(try LifeboatCLI.json(test) as? [String: Any])
            #expect(report["passed"] as? Bool == true, "\(report)")
            #expect((report["tableRows"] as? [String: Int])?["\(name).public.x"] == 7, "\(report)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
        }

        let folder = s.scratch.path + "/a b'c, d"
        try FileTree.mkdir(folder)
        try ScratchPostgres.handOver(folder)
        let port = try ScratchPostgres.freePort()
        let pgdata = folder + "/restored"
        let started = try s.cli.run(["restore-db", "latest", "--pgdata", pgdata, "--immediate", "--start", "--port", "\(port)"])
        defer { s.cluster.stop(dataDirectory: pgdata) }
        #expect(started.status == 0, "\(started.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/.s.PGSQL.\(port)"))
        #expect(try s.cluster.sql("SHOW unix_socket_directories", port: port) == "\"\(folder)\"")

        let unsafe = s.scratch.path + "/x$(touch pwned)"
        let refused = try s.cli.run(["restore-db", "latest", "--pgdata", unsafe, "--immediate", "--start", "--port", "\(port)"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("holds a character"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: unsafe))
    }

    @Test("a PostgreSQL backup that does not restore is a failed restoration test: exit 13, recorded FAILED with the reason", .timeLimit(.minutes(5)))
    func failedRestorationTestIsRecorded() throws {
        let s = try Setup()
        let config = s.scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(s.cli.repository) }
            sources:
              - { name: main, kind: postgres, url: "\(s.cluster.url)" }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        try ScratchPostgres.handOver(config)
        let env = s.cli.environment(config: config)
        try s.cluster.sql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS x")
        let full = try s.cli.run(["run", "main", "--type", "full", "--json"], environment: env)
        try #require(full.status == 0, "\(full.stderr)")
        let facts = try #require((try LifeboatCLI.json(try s.cli.run(["snapshots", "--json"])) as? [[String: Any]])?.first?["postgres"] as? [String: Any])
        let first = try #require(facts["startWal"] as? String)
        try FileManager.default.removeItem(atPath: s.cli.repository + "/wal/" + first.prefix(8) + "/" + first)

        let test = try s.cli.run(["restore-test", "main", "--json"], environment: env)
        #expect(test.status == 13, "\(test.stdout) \(test.stderr)")
        let report = try #require(try LifeboatCLI.json(test) as? [String: Any])
        #expect(report["passed"] as? Bool == false)
        #expect((report["details"] as? String)?.contains("\(first)") == true, "\(report)")
        let rows = try #require(try LifeboatCLI.json(try s.cli.run(["log", "--json"], environment: env)) as? [[String: Any]])
        let recorded = rows.first?["restoreTest"] as? [String: Any]
        #expect(recorded?["result"] as? String == "FAILED", "\(rows)")
        #expect((recorded?["details"] as? String)?.contains(first) == true, "\(rows)")
    }

    static func newestBase(_ s: Setup) throws -> String? {
        (try LifeboatCLI.json(try s.cli.run(["snapshots", "--json"])) as? [[String: Any]])?.last { $0["type"] as? String != "TRANSACTION_LOG" }?["id"] as? String
    }
}
