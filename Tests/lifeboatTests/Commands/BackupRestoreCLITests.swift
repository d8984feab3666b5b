import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat init, backup, snapshots, restore, ls, diff")
struct BackupRestoreCLITests {
    func makeSource(_ scratch: ScratchDirectory) throws -> String {
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 41)
        try FileTree.write(source + "/x.bin", rng.bytes(300_000))
        try FileTree.mkdir(source + "/docs")
        try FileTree.write(source + "/docs/readme.txt", Array("read me\n".utf8))
        try FileTree.write(source + "/docs/skip.tmp", [1])
        return source
    }

    @Test("backup --json and snapshots --json carry the documented fields")
    func jsonOutput() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let first = try cli.run(["backup", source, "--tag", "nightly", "--exclude", "*.tmp", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let b = try #require(try LifeboatCLI.json(first) as? [String: Any])
        for key in ["snapshotId", "type", "parent", "filesNew", "filesChanged", "filesUnmodified", "bytesRead", "bytesAdded", "durationSeconds"] {
            #expect(b[key] != nil, "backup --json lacks \(key)")
        }
        #expect(b["type"] as? String == "FULL")
        #expect(b["parent"] is NSNull)
        #expect(b["filesNew"] as? Int == 2)

        let second = try #require(try LifeboatCLI.json(try cli.run(["backup", source, "--exclude", "*.tmp", "--json"])) as? [String: Any])
        #expect(second["type"] as? String == "INCREMENTAL")
        #expect(second["parent"] as? String == b["snapshotId"] as? String)
        #expect(second["bytesRead"] as? Int == 0)

        let full = try #require(try LifeboatCLI.json(try cli.run(["backup", source, "--type", "full", "--exclude", "*.tmp", "--json"])) as? [String: Any])
        #expect(full["type"] as? String == "FULL")
        #expect(full["bytesRead"] as? Int == 300_008)

        let list = try #require(try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [[String: Any]])
        #expect(list.count == 3)
        let s = list[0]
        for key in ["id", "shortId", "time", "type", "paths", "tags", "parent", "host"] {
            #expect(s[key] != nil, "snapshots --json lacks \(key)")
        }
        #expect(s["id"] as? String == b["snapshotId"] as? String)
        #expect((s["id"] as? String)?.count == 64)
        #expect(s["tags"] as? [String] == ["nightly"])
        #expect(s["paths"] as? [String] == [source])
        #expect(ISO8601.parse(s["time"] as? String ?? "") != nil)
    }

    @Test("restore by short id recreates the absolute structure; ls and diff list the entries")
    func restoreLsDiff() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let id1 = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id1.count == 64)
        try FileTree.write(source + "/docs/new.txt", [9])
        let id2 = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let target = scratch.path + "/restore"
        let restored = try cli.run(["restore", String(id1.prefix(8)), "--target", target, "--verify"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(FileManager.default.contents(atPath: target + source + "/x.bin") == FileManager.default.contents(atPath: source + "/x.bin"))
        #expect(!FileManager.default.fileExists(atPath: target + source + "/docs/new.txt"))

        let ls = try cli.run(["ls", "latest"])
        #expect(ls.stdout.contains(source + "/docs/new.txt"))
        let diff = try cli.run(["diff", id1, id2])
        #expect(diff.stdout.contains("+    " + source + "/docs/new.txt"))

        let partial = try cli.run(["restore", "latest", "--target", scratch.path + "/only", "--include", "*.txt"])
        #expect(partial.status == 0)
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/only" + source + "/docs/new.txt"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/only" + source + "/x.bin"))
    }

    @Test("the repository and passphrase come from flags or from the environment")
    func environment() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        var env = ProcessInfo.processInfo.environment
        for key in ["LIFEBOAT_REPOSITORY", "LIFEBOAT_PASSWORD_FILE"] { env.removeValue(forKey: key) }
        let flags = try cli.run(["backup", source, "--repo", cli.repository, "--password-file", cli.passwordFile], environment: env)
        #expect(flags.status == 0, "\(flags.stderr)")
        env["LIFEBOAT_REPOSITORY"] = cli.repository
        env["LIFEBOAT_PASSWORD"] = "correct horse battery staple"
        let byEnv = try cli.run(["snapshots"], environment: env)
        #expect(byEnv.status == 0, "\(byEnv.stderr)")
        env.removeValue(forKey: "LIFEBOAT_PASSWORD")
        let none = try cli.run(["snapshots"], environment: env)
        #expect(none.status == 1)
        #expect(none.stderr.contains("no passphrase"))
    }

    @Test("progress goes to a terminal only: piped output is just the result")
    func quietWhenPiped() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let out = try cli.run(["backup", source])
        #expect(out.stderr.isEmpty)
        #expect(out.stdout.split(separator: "\n").count == 1)
    }

    @Test("quickstart runs the whole process on the sample application and leaves a BackupLog that `lifeboat log` reads")
    func quickstart() async throws {
        let scratch = ScratchDirectory("quickstart")
        let out = try Shell.run(LifeboatCLI.executable, ["quickstart", "--directory", scratch.path + "/qs"])
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        #expect(out.stdout.contains("OK: 3 runs recorded"))
        #expect(out.stdout.contains("restoration test of the INCREMENTAL from the medium: PASSED"))
        #expect(!out.stdout.contains("FAILED"))
        // The same record, read by the command an operator would use.
        var env = ProcessInfo.processInfo.environment
        env["LIFEBOAT_CONFIG"] = scratch.path + "/qs/lifeboat.yaml"
        let log = try Shell.run(LifeboatCLI.executable, ["log", "--json"], environment: env)
        #expect(log.status == 0, "\(log.stderr)")
        let rows = try #require(try LifeboatCLI.json(log) as? [[String: Any]])
        #expect(rows.map { $0["type"] as? String } == ["CONFIGURATION", "INCREMENTAL", "FULL"])
        #expect(rows.allSatisfy { $0["status"] as? String == "SUCCEEDED" })
        #expect((rows[1]["restoreTest"] as? [String: Any])?["result"] as? String == "PASSED")
        let copies = rows.flatMap { ($0["locations"] as? [[String: Any]]) ?? [] }
        #expect(copies.count == 6 && copies.allSatisfy { $0["status"] as? String == "VERIFIED" })
        #expect(try FileStatus.lstat(RawPath(scratch.path + "/qs/passphrase")).mode == 0o600)
        // It ends by telling how to start the daemon on the sample; told so, the daemon runs.
        let told = try #require(out.stdout.split(separator: "\n").first { $0.hasPrefix("next: `lifeboat serve") })
        let command = try #require(told.split(separator: "`").dropFirst().first).split(separator: " ").map(String.init)
        let daemon = try await DaemonProcess.start(environment: ProcessInfo.processInfo.environment, arguments: Array(command.dropFirst(2)))
        #expect(await daemon.waitingFor("ready: the schedule runs"), "\(daemon.log.output)")
        #expect(try await daemon.get("/readyz").status == 200)
        daemon.signal(SIGTERM)
        let end = await daemon.exit()
        #expect(end.status == 0, "\(end.log)")
    }

    @Test("ls and diff print control characters in names escaped; --json carries the exact names")
    func controlCharactersInNames() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/plain", [1])
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let first = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let evil = "evil\n\u{1b}[31mred\\x"
        try FileTree.write(source + "/" + evil, [2])
        try FileTree.symlink("\u{1b}]0;title\u{07}", at: source + "/link")
        let second = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        for out in [try cli.run(["ls", "latest"]), try cli.run(["ls", "--long", "latest"]), try cli.run(["diff", first, second])] {
            #expect(out.status == 0, "\(out.stderr)")
            #expect(!out.stdout.contains("\u{1b}") && !out.stdout.contains("\u{07}"), "\(out.stdout)")
            #expect(out.stdout.contains(source + "/evil\\n\\x1b[31mred\\\\x"), "\(out.stdout)")
        }
        #expect(try cli.run(["ls", "--long", "latest"]).stdout.contains("-> \\x1b]0;title\\x07"))
        let json = try #require(try LifeboatCLI.json(try cli.run(["ls", "latest", "--json"])) as? [[String: Any]])
        #expect(json.contains { $0["path"] as? String == source + "/" + evil })
    }

    @Test("a file dated past 2262 backs up with a warning (exit 3); ls, restore, check and prune work on the snapshot")
    func timeBeyondTheFormat() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/future", Array("from the future".utf8))
        try FileTree.write(source + "/present", Array("from now".utf8))
        // 2262-04-11T23:47:16.854775808Z: the time that wrapped to Int64.min and trapped every later reader.
        try FileTree.setMtime(source + "/future", seconds: 9_223_372_036, nanoseconds: 854_775_808)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let backup = try cli.run(["backup", source])
        #expect(backup.status == 3, "\(backup.stderr)")
        #expect(backup.stderr.contains(source + "/future: its mtime"), "\(backup.stderr)")
        #expect(try cli.run(["backup", source]).status == 3)

        let ls = try cli.run(["ls", "--long", "latest"])
        #expect(ls.status == 0, "\(ls.stderr)")
        #expect(ls.stdout.contains("2262-04-11T23:47:16"), "\(ls.stdout)")
        let target = scratch.path + "/restore"
        let restore = try cli.run(["restore", "latest", "--target", target, "--verify"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(FileManager.default.contents(atPath: target + source + "/future") == Data("from the future".utf8))
        #expect(try cli.run(["check", "--read-data"]).status == 0)
        let prune = try cli.run(["forget", "--keep-last", "1", "--prune"])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(try cli.run(["check", "--read-data"]).status == 0)
    }

    @Test("a restore over existing data keeps a file whose pack is missing as it was, and exits non-zero naming it")
    func restoreOverExistingKeepsWhatItCannotRestore() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/kept.txt", Array("snapshot kept".utf8))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        // lost.txt's content goes into a pack of its own: the second run reuses kept.txt's.
        try FileTree.write(source + "/lost.txt", Array("snapshot lost".utf8))
        #expect(try cli.run(["backup", source]).status == 0)
        let repo = try await TestRepository.open(at: cli.repository)
        let index = try await repo.loadIndex()
        let latest = try #require(try await repo.snapshots().max { $0.snapshot.time < $1.snapshot.time })
        let lost = try await repo.node(at: source + "/lost.txt", in: latest.snapshot.tree, index: index)
        let lostBlob = try #require(lost.content.first)
        let pack = try #require(index.location(of: lostBlob)).pack.hex
        try FileManager.default.removeItem(atPath: cli.repository + "/data/\(pack.prefix(2))/\(pack)")

        // Restoring over existing data, where lost.txt is the only good copy left.
        let target = scratch.path + "/restore"
        try FileTree.mkdir(target + source)
        try FileTree.write(target + source + "/lost.txt", Array("live, newer than any snapshot".utf8))
        try FileTree.write(target + source + "/kept.txt", Array("live kept".utf8))
        let restore = try cli.run(["restore", "latest", "--target", target])
        #expect(restore.status == 3, "\(restore.stderr)")
        #expect(restore.stderr.contains(source + "/lost.txt"), "\(restore.stderr)")
        #expect(FileManager.default.contents(atPath: target + source + "/lost.txt") == Data("live, newer than any snapshot".utf8))
        #expect(FileManager.default.contents(atPath: target + source + "/kept.txt") == Data("snapshot kept".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target + source).sorted() == ["kept.txt", "lost.txt"])
    }
}
