import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

/// A backup stopped by a failed write, at each of its writes in turn (FaultInjectingBackend:
/// everything before the failure done, nothing after it, as a crash would leave it): the
/// repository must still pass `check --read-data` as a new process sees it, and the next
/// backup must succeed and restore exactly.
@Suite("A backup that fails at any write", .timeLimit(.minutes(20)))
struct BackupFaultInjectionTests {
    /// Files of every size class: several chunks, one chunk, tiny, empty; a folder, a link.
    static func makeFiles(_ root: String, seed: UInt64) throws {
        var rng = SeededBytes(seed: seed)
        try FileTree.mkdir(root + "/sub/deeper")
        try FileTree.write(root + "/large.bin", rng.bytes((2 << 20) + 12345))
        try FileTree.write(root + "/medium.bin", rng.bytes(300_000))
        try FileTree.write(root + "/sub/notes.txt", Array(String(repeating: "lifeboat \(seed)\n", count: 2000).utf8))
        try FileTree.write(root + "/sub/deeper/tiny", [UInt8(truncatingIfNeeded: seed)])
        try FileTree.write(root + "/empty", [])
        try FileTree.symlink("sub/notes.txt", at: root + "/link")
    }

    /// Runs `backup` on a copy of the repository `template` through a backend that fails
    /// at write 1, 2, … until one succeeds: each step starts from the same state. After each
    /// failure, `afterFailure` gets the failed copy. Returns how many writes the backup made.
    static func failEveryWrite(
        template: String, _ backup: (Repository) async throws -> Void,
        afterFailure: (_ step: Int, _ repository: String, _ injected: String) async throws -> Void
    ) async throws -> Int {
        var step = 1
        while true {
            try #require(step < 200, "a small backup should not write 200 objects")
            let path = template + "-step\(step)"
            try FileManager.default.copyItem(atPath: template, toPath: path)
            let faulty = FaultInjectingBackend(try LocalDirectoryBackend(path: path), failAtMutation: step)
            let broken = try await Repository.open(backend: faulty, passphrase: TestRepository.passphrase)
            do {
                try await backup(broken)
            } catch {
                let injected = try #require(faulty.injected, "the backup failed at write \(step), but not from the injected fault: \(error)")
                try await afterFailure(step, path, injected)
                try FileManager.default.removeItem(atPath: path)
                step += 1
                continue
            }
            #expect(faulty.injected == nil)
            try await expectChecksClean(path, "the backup that met no fault")
            return step - 1
        }
    }

    /// check --read-data of the repository at `path`, opened afresh, passes.
    static func expectChecksClean(_ path: String, _ what: String) async throws {
        let repo = try await TestRepository.open(at: path)
        let report = try await Checker(repository: repo).check(readData: true)
        #expect(report.isOK, "\(what): \(report.errors)")
    }

    @Test("files: after a failure at each write of a FULL and of an INCREMENTAL backup, check --read-data passes and the next backup restores exactly")
    func files() async throws {
        for incremental in [false, true] {
            let scratch = ScratchDirectory("fault-files")
            let source = try scratch.sub("source")
            try Self.makeFiles(source, seed: 1)
            let repoPath = scratch.path + "/repo"
            let repo = try await TestRepository.create(at: repoPath)
            if incremental {
                _ = try await TestRepository.backup(repo, [source])
                // Changed, added and removed files for the INCREMENTAL one to store.
                var rng = SeededBytes(seed: 2)
                try FileTree.write(source + "/medium.bin", rng.bytes(310_000))
                try FileTree.write(source + "/sub/added.bin", rng.bytes(700_000))
                try FileManager.default.removeItem(atPath: source + "/sub/deeper/tiny")
            }
            let kind = incremental ? "INCREMENTAL" : "FULL"
            let writes = try await Self.failEveryWrite(template: repoPath) { broken in
                _ = try await TestRepository.backup(broken, [source])
            } afterFailure: { step, repoPath, injected in
                let what = "\(kind) backup failed at write \(step) (\(injected))"
                try await Self.expectChecksClean(repoPath, what)
                // The next backup, by a new process, succeeds and restores exactly.
                let repo = try await TestRepository.open(at: repoPath)
                let next = try await TestRepository.backup(repo, [source])
                let target = scratch.path + "/restore-\(incremental)-\(step)"
                let restored = try await Restorer(repository: repo).restore(next.snapshot, options: RestoreOptions(target: target))
                #expect(restored.isComplete, "\(what): \(restored.errors)")
                #expect(DirectoryComparison.differences(source, target + source, compareDirectoryTimes: false) == [], "\(what)")
                try await Self.expectChecksClean(repoPath, "\(what), then a backup")
            }
            #expect(writes >= 4, "the \(kind) backup made \(writes) writes: too few to prove much")
        }
    }

    @Test("SQLite: after a failure at each write of a backup, check --read-data passes and the next backup restores the same rows")
    func sqlite() async throws {
        let scratch = ScratchDirectory("fault-sqlite")
        let dbPath = try scratch.sub("app") + "/app.db"
        let db = try SQLiteConnection(path: dbPath, readOnly: false, create: true)
        try db.execute("PRAGMA journal_mode=WAL")
        try db.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, payload BLOB); CREATE INDEX items_name ON items(name)")
        try db.execute("BEGIN")
        for i in 0..<3000 { try db.execute("INSERT INTO items(name, payload) VALUES('item \(i)', randomblob(\(i % 700)))") }
        try db.execute("COMMIT")
        let contents = "SELECT id, name, hex(payload) FROM items ORDER BY id"
        let expected = try db.rows(contents)
        let repoPath = scratch.path + "/repo"
        _ = try await TestRepository.create(at: repoPath)
        var options = BackupOptions(paths: [], host: "testhost", username: "tester")
        options.scratchDirectory = scratch.path
        let writes = try await Self.failEveryWrite(template: repoPath) { broken in
            _ = try await SourceBackup(repository: broken).backup(SQLiteSource(path: dbPath), options: options)
        } afterFailure: { step, repoPath, injected in
            let what = "SQLite backup failed at write \(step) (\(injected))"
            try await Self.expectChecksClean(repoPath, what)
            let repo = try await TestRepository.open(at: repoPath)
            let next = try await SourceBackup(repository: repo).backup(SQLiteSource(path: dbPath), options: options)
            let target = scratch.path + "/restored-\(step).db"
            let restored = try await DatabaseRestorer(repository: repo).restoreSQLite(
                SnapshotEntry(id: next.snapshotID, snapshot: next.snapshot), to: target, force: false)
            #expect(restored.facts.checkResult == "ok", "\(what)")
            #expect(try SQLiteConnection(path: target, readOnly: true).rows(contents) == expected, "\(what): the restored rows differ")
            try await Self.expectChecksClean(repoPath, "\(what), then a backup")
        }
        #expect(writes >= 3, "the SQLite backup made \(writes) writes: too few to prove much")
    }
}

/// The same for a PostgreSQL base backup, against a scratch cluster per step. The cluster
/// archives its WAL with `lifeboat wal push` into the same repository, as in production:
/// that process writes through a backend without faults, so only the base backup's own
/// writes fail, and the backup waits for the WAL it needs as it always does.
@Suite(
    "A PostgreSQL base backup that fails at any write", .serialized, .timeLimit(.minutes(30)),
    .enabled(if: ScratchPostgres.isAvailable, "no PostgreSQL server programs (scripts/test installs them)"))
struct PostgreSQLBackupFaultInjectionTests {
    @Test("after a failure at each write of a base backup, check --read-data passes and the next backup restores the same rows")
    func baseBackup() async throws {
        var step = 1
        var writes = 0
        while true {
            try #require(step < 200, "a small base backup should not write 200 objects")
            let scratch = ScratchDirectory("fault-pg")
            try FileTree.chmod(scratch.path, 0o755)
            var cli = try LifeboatCLI(scratch: scratch)  // the passphrase of TestRepository
            cli.binary = try ScratchPostgres.lifeboatExecutable(for: ScratchPostgres.osUserForClusters)
            _ = try await TestRepository.create(at: cli.repository)
            // Every folder `wal push` writes in exists before the repository is handed to the
            // cluster's user: the folders this process makes later are its own.
            for folder in ["locks", "wal", "datakeys", "keys"] { try FileTree.mkdir(cli.repository + "/" + folder) }
            try ScratchPostgres.handOver(scratch.path)
            let push = "\(cli.binary!) wal push %p --repo \(cli.repository) --password-file \(cli.passwordFile)"
            let cluster = try ScratchPostgres(settings: ["archive_mode = on", "archive_command = '\(push)'"])
            try cluster.sql("CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g")
            let checksum = "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM t"
            let expected = try cluster.sql(checksum)
            var source = PostgreSQLSource(url: cluster.url)
            source.checkpoint = .fast
            var options = BackupOptions(paths: [], host: "testhost", username: "tester")
            options.archiveTimeout = .seconds(300)

            let faulty = FaultInjectingBackend(try LocalDirectoryBackend(path: cli.repository), failAtMutation: step)
            let broken = try await Repository.open(backend: faulty, passphrase: TestRepository.passphrase)
            do {
                _ = try await SourceBackup(repository: broken).backup(source, options: options)
            } catch {
                let injected = try #require(faulty.injected, "the base backup failed at write \(step), but not from the injected fault: \(error)")
                let what = "base backup failed at write \(step) (\(injected))"
                try await BackupFaultInjectionTests.expectChecksClean(cli.repository, what)
                let repo = try await TestRepository.open(at: cli.repository)
                let next = try await SourceBackup(repository: repo).backup(source, options: options)
                try await BackupFaultInjectionTests.expectChecksClean(cli.repository, "\(what), then a backup")
                // The restored cluster fetches WAL as the cluster's user: the repository is theirs now.
                try ScratchPostgres.handOver(scratch.path)
                let port = try ScratchPostgres.freePort()
                let pgdata = scratch.path + "/restored"
                let restore = try cli.run(["restore-db", next.snapshotID.hex, "--pgdata", pgdata, "--start", "--port", "\(port)", "--no-archiving"])
                defer { cluster.stop(dataDirectory: pgdata) }
                try #require(restore.status == 0, "\(what): \(restore.stderr)")
                #expect(try cluster.sql(checksum, port: port) == expected, "\(what): the restored rows differ")
                step += 1
                continue
            }
            #expect(faulty.injected == nil)
            writes = step - 1
            break
        }
        #expect(writes >= 4, "the base backup made \(writes) writes: too few to prove much")
    }
}
