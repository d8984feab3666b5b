import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat find and stats")
struct FindStatsCLITests {
    @Test("find matches names (or whole paths with a '/') in every snapshot that has them")
    func find() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.mkdir(source + "/etc")
        try FileTree.write(source + "/etc/app.conf", Array("a=1\n".utf8))
        try FileTree.write(source + "/etc/notes.txt", [1])
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        try FileTree.write(source + "/etc/DB.CONF", Array("b=2\n".utf8))
        #expect(try cli.run(["backup", source]).status == 0)

        let json = try #require(try LifeboatCLI.json(try cli.run(["find", "*.conf", "--json"])) as? [[String: Any]])
        #expect(json.count == 2)
        let paths = json.map { ($0["matches"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String } }
        #expect(paths == [[source + "/etc/app.conf"], [source + "/etc/app.conf"]])
        #expect(json[0]["snapshot"] as? String != json[1]["snapshot"] as? String)

        let folded = try #require(try LifeboatCLI.json(try cli.run(["find", "-i", "*.conf", "--snapshot", "latest", "--json"])) as? [[String: Any]])
        #expect(folded.count == 1)
        let found = (folded[0]["matches"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(Set(found) == [source + "/etc/app.conf", source + "/etc/DB.CONF"])

        let byPath = try cli.run(["find", source + "/etc/*.txt"])
        #expect(byPath.status == 0)
        #expect(byPath.stdout.contains(source + "/etc/notes.txt"))
        #expect(byPath.stdout.contains("2 matches in 2 snapshots searched"), "\(byPath.stdout)")

        let none = try cli.run(["find", "nothing-*"])
        #expect(none.status == 0)
        #expect(none.stdout.contains("0 matches"))
    }

    @Test("stats counts shared content once: the second snapshot of the same files doubles the dedup ratio, not the unique size")
    func stats() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 3)
        try FileTree.write(source + "/a.bin", rng.bytes(2_000_000))
        try FileTree.write(source + "/b.bin", rng.bytes(1_000_000))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source, "--tag", "source:files"]).status == 0)
        #expect(try cli.run(["backup", source, "--tag", "source:files", "--type", "full"]).status == 0)

        let out = try cli.run(["stats", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let stats = try #require(try LifeboatCLI.json(out) as? [String: Any])
        let groups = try #require(stats["groups"] as? [[String: Any]])
        #expect(groups.count == 1)
        let g = groups[0]
        #expect(g["source"] as? String == "files")
        #expect(g["snapshots"] as? Int == 2)
        #expect(g["latestBytes"] as? Int == 3_000_000)
        #expect(g["restoreBytesAllSnapshots"] as? Int == 6_000_000)
        let unique = try #require(g["uniquePlainBytes"] as? Int)
        // The file content once, plus the trees.
        #expect(unique >= 3_000_000 && unique < 3_010_000, "\(unique)")
        let ratio = try #require(g["deduplicationRatio"] as? Double)
        #expect(ratio > 1.99 && ratio <= 2.0)

        let table = try cli.run(["stats"])
        #expect(table.stdout.contains("files "), "\(table.stdout)")
        #expect(table.stdout.contains("(all)"))
        let missing = try cli.run(["stats", "--source", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no snapshot of source 'nope'"))
    }
}
