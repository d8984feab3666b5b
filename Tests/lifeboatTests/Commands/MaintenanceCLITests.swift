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
}
