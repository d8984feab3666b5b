import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat forget, prune, key")
struct MaintenanceCLITests {
    @Test("forget --keep-last 1 --prune --json forgets the older snapshot and frees its data")
    func forgetPrune() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 101)
        try FileTree.write(source + "/a.bin", rng.bytes(2 << 20))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        try FileTree.write(source + "/a.bin", rng.bytes(2 << 20))
        #expect(try cli.run(["backup", source]).status == 0)

        let dry = try #require(try LifeboatCLI.json(try cli.run(["forget", "--keep-last", "1", "--dry-run", "--json"])) as? [String: Any])
        #expect((dry["snapshots"] as? [[String: Any]])?.filter { $0["keep"] as? Bool == false }.count == 1)
        #expect((try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [Any])?.count == 2)

        let out = try cli.run(["forget", "--keep-last", "1", "--prune", "--pack-grace", "0", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let result = try #require(try LifeboatCLI.json(out) as? [String: Any])
        let prune = try #require(result["prune"] as? [String: Any])
        #expect((prune["bytesAfter"] as? Int ?? .max) < (prune["bytesBefore"] as? Int ?? 0) - (1 << 20))
        #expect((try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [Any])?.count == 1)
        #expect(try cli.run(["check", "--read-data"]).status == 0)
    }

    @Test("forget refuses a malformed duration with a usage error")
    func badDuration() throws {
        let scratch = ScratchDirectory()
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let out = try cli.run(["forget", "--keep-within", "soon"])
        #expect(out.status == 64)
        #expect(out.stderr.contains("not a duration"))
    }

    /// The ids of the repository's snapshots, oldest first.
    private static func snapshotIDs(_ cli: LifeboatCLI, _ arguments: [String] = []) throws -> [String] {
        let list = try #require(try LifeboatCLI.json(try cli.run(["snapshots", "--json"] + arguments)) as? [[String: Any]])
        return list.compactMap { $0["id"] as? String }
    }

    @Test("forget ID forgets exactly the snapshots named, by id prefix; a dry run, an unknown id or ids with --keep rules delete nothing")
    func forgetNamed() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        for i in 0..<3 {
            try FileTree.write(source + "/f.txt", Array("version \(i)".utf8))
            #expect(try cli.run(["backup", source]).status == 0)
        }
        let ids = try Self.snapshotIDs(cli)
        try #require(ids.count == 3)

        let dry = try cli.run(["forget", String(ids[1].prefix(8)), "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would forget 1 of 1 snapshots"), "\(dry.stdout)")
        #expect(try Self.snapshotIDs(cli) == ids, "a dry run forgets nothing")

        let unknown = try cli.run(["forget", String(ids[0].prefix(8)), "ffffffffffff"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no snapshot matches 'ffffffffffff'"), "\(unknown.stderr)")
        #expect(try Self.snapshotIDs(cli) == ids, "one unknown id forgets none of the others")

        let mixed = try cli.run(["forget", ids[1], "--keep-last", "1"])
        #expect(mixed.status == 64)
        #expect(mixed.stderr.contains("not both"), "\(mixed.stderr)")
        let filtered = try cli.run(["forget", ids[1], "--host", "elsewhere"])
        #expect(filtered.status == 64)

        let out = try cli.run(["forget", String(ids[1].prefix(8)), ids[1], "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let result = try #require(try LifeboatCLI.json(out) as? [String: Any])
        let decisions = try #require(result["snapshots"] as? [[String: Any]])
        #expect(decisions.count == 1 && decisions.first?["id"] as? String == ids[1] && decisions.first?["keep"] as? Bool == false)
        #expect(try Self.snapshotIDs(cli) == [ids[0], ids[2]], "the middle snapshot, and only it, is gone")
        #expect(try cli.run(["check"]).status == 0)
    }

    @Test("forget --keep-last with --source or --host applies the policy only to the snapshots selected; the others stay")
    func forgetFiltered() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/f.txt", Array("same".utf8))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        // Same host and paths: one retention group without filters.
        for name in ["a", "b", "a", "b"] {
            #expect(try cli.run(["backup", source, "--tag", "source:\(name)"]).status == 0)
        }
        #expect(try cli.run(["backup", source, "--host", "other-host", "--tag", "source:a"]).status == 0)
        #expect(try cli.run(["backup", source, "--host", "other-host", "--tag", "source:a"]).status == 0)
        let all = try Self.snapshotIDs(cli)
        try #require(all.count == 6)
        let ofB = try Self.snapshotIDs(cli, ["--source", "b"])
        let onOther = try Self.snapshotIDs(cli, ["--host", "other-host"])

        let dry = try #require(try LifeboatCLI.json(try cli.run(["forget", "--keep-last", "1", "--source", "b", "--dry-run", "--json"])) as? [String: Any])
        let planned = try #require(dry["snapshots"] as? [[String: Any]])
        #expect(Set(planned.compactMap { $0["id"] as? String }) == Set(ofB), "the plan covers source b's snapshots only")

        let out = try cli.run(["forget", "--keep-last", "1", "--source", "b"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("forgot 1 of 2 snapshots"), "\(out.stdout)")
        #expect(try Self.snapshotIDs(cli) == all.filter { $0 != ofB[0] }, "source b's older snapshot only")

        #expect(try cli.run(["forget", "--keep-last", "1", "--host", "other-host"]).status == 0)
        #expect(try Self.snapshotIDs(cli) == all.filter { $0 != ofB[0] && $0 != onOther[0] }, "the other host's older snapshot only")
    }

    @Test("prune --max-unused unlimited leaves a partly used pack as it is, the default 5% repacks it; a limit that is none is a usage error")
    func pruneMaxUnused() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 102)
        try FileTree.write(source + "/keep.bin", rng.bytes(300_000))
        try FileTree.write(source + "/drop.bin", rng.bytes(3 << 20))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        try FileManager.default.removeItem(atPath: source + "/drop.bin")
        #expect(try cli.run(["backup", source]).status == 0)
        let ids = try Self.snapshotIDs(cli)
        try #require(ids.count == 2)
        #expect(try cli.run(["forget", ids[0]]).status == 0)

        let bad = try cli.run(["prune", "--max-unused", "lots"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--max-unused 'lots' is not a limit"), "\(bad.stderr)")

        let kept = try cli.run(["prune", "--max-unused", "unlimited", "--pack-grace", "0"])
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdout.contains("repacked 0 into 0"), "\(kept.stdout)")
        #expect(kept.stdout.contains("unused in packs still partly in use (within --max-unused)"), "\(kept.stdout)")

        let out = try cli.run(["prune", "--pack-grace", "0", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let report = try #require(try LifeboatCLI.json(out) as? [String: Any])
        #expect(report["packsRepacked"] as? Int == 1, "\(report)")
        #expect(report["unusedBytesKept"] as? Int == 0)
        #expect(try cli.run(["check", "--read-data"]).status == 0)
    }

    @Test("key add, list, passwd and remove work through the CLI")
    func keys() throws {
        let scratch = ScratchDirectory()
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        try "second passphrase".write(toFile: scratch.path + "/second", atomically: true, encoding: .utf8)
        #expect(try cli.run(["key", "add", "--new-password-file", scratch.path + "/second", "--kdf-n", "1024"]).status == 0)
        let keys = try #require(try LifeboatCLI.json(try cli.run(["key", "list", "--json"])) as? [[String: Any]])
        #expect(keys.count == 2)
        #expect(keys.filter { $0["current"] as? Bool == true }.count == 1)

        var second = cli.environment
        second["LIFEBOAT_PASSWORD_FILE"] = scratch.path + "/second"
        #expect(try cli.run(["snapshots"], environment: second).status == 0)
        let current = try #require(keys.first { $0["current"] as? Bool == true }?["id"] as? String)
        let refused = try cli.run(["key", "remove", String(current.prefix(12))])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("in use"))
        #expect(try cli.run(["key", "remove", String(current.prefix(12))], environment: second).status == 0)
        #expect(try cli.run(["snapshots"]).status == 12)

        try "third".write(toFile: scratch.path + "/third", atomically: true, encoding: .utf8)
        #expect(try cli.run(["key", "passwd", "--new-password-file", scratch.path + "/third", "--kdf-n", "1024"], environment: second).status == 0)
        #expect(try cli.run(["snapshots"], environment: second).status == 12)
        var third = cli.environment
        third["LIFEBOAT_PASSWORD_FILE"] = scratch.path + "/third"
        #expect(try cli.run(["key", "rotate", "--kdf-n", "1024"], environment: third).status == 0)
        #expect(try cli.run(["check", "--read-data"], environment: third).status == 0)
    }

    @Test("a WAL-only passphrase pushes, fetches and lists WAL; backup, ls, restore and key add with it exit 12; key rotate retires it")
    func walOnlyKey() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/secret.txt", Array("not for the database's user".utf8))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        let walDir = try scratch.sub("pg_wal")
        var rng = SeededBytes(seed: 97)
        let early = walDir + "/000000010000000000000001"
        try Data(rng.bytes(32 << 10)).write(to: URL(fileURLWithPath: early))
        #expect(try cli.run(["wal", "push", early]).status == 0, "a segment archived before the WAL-only key exists")
        try "archiving only".write(toFile: scratch.path + "/wal-pass", atomically: true, encoding: .utf8)
        let added = try cli.run(["key", "add", "--wal-only", "--new-password-file", scratch.path + "/wal-pass", "--kdf-n", "1024"])
        #expect(added.status == 0 && added.stdout.contains("WAL-only"), "\(added.stdout) \(added.stderr)")
        let keys = try #require(try LifeboatCLI.json(try cli.run(["key", "list", "--json"])) as? [[String: Any]])
        #expect(keys.filter { $0["walOnly"] as? Bool == true }.count == 1)

        var wal = cli.environment
        wal["LIFEBOAT_PASSWORD_FILE"] = scratch.path + "/wal-pass"
        let later = walDir + "/000000010000000000000002"
        try Data(rng.bytes(32 << 10)).write(to: URL(fileURLWithPath: later))
        let pushed = try cli.run(["wal", "push", later], environment: wal)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let fetched = try cli.run(["wal", "fetch", "000000010000000000000002", scratch.path + "/fetched"], environment: wal)
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(FileManager.default.contents(atPath: scratch.path + "/fetched") == FileManager.default.contents(atPath: later))
        // WAL sealed before the WAL-only key existed is fetched with a full passphrase.
        #expect(try cli.run(["wal", "fetch", "000000010000000000000001", scratch.path + "/early"], environment: wal).status == 1)
        #expect(try cli.run(["wal", "fetch", "000000010000000000000001", scratch.path + "/early"]).status == 0)
        #expect(try cli.run(["wal", "list"], environment: wal).status == 0)
        for arguments in [["backup", source], ["ls", "latest"], ["snapshots"], ["restore", "latest", "--target", scratch.path + "/r"], ["key", "list"]] {
            let refused = try cli.run(arguments, environment: wal)
            #expect(refused.status == 12, "\(arguments): \(refused.stderr)")
            #expect(refused.stderr.contains("WAL-only"), "\(arguments): \(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/r"))

        // The full passphrase reads what the WAL-only one archived.
        let again = try cli.run(["wal", "fetch", "000000010000000000000002", scratch.path + "/again"])
        #expect(again.status == 0 && FileManager.default.contents(atPath: scratch.path + "/again") == FileManager.default.contents(atPath: later))
        #expect(try cli.run(["key", "rotate", "--kdf-n", "1024"]).status == 0)
        #expect(try cli.run(["wal", "list"], environment: wal).status == 12)
        let check = try cli.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout)")
    }
}
