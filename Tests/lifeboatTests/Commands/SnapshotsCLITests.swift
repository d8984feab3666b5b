import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat snapshots --group-by")
struct SnapshotsCLITests {
    @Test("snapshots --group-by source and host,source show one group per value, in JSON and as text; a field it does not know is a usage error")
    func groupBy() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/f.txt", Array("x".utf8))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source, "--tag", "source:users"]).status == 0)
        #expect(try cli.run(["backup", source, "--tag", "source:orders"]).status == 0)
        #expect(try cli.run(["backup", source, "--tag", "source:users", "--host", "replica"]).status == 0)
        #expect(try cli.run(["backup", source]).status == 0)

        let bySource = try #require(try LifeboatCLI.json(try cli.run(["snapshots", "--group-by", "source", "--json"])) as? [[String: Any]])
        let summary = bySource.map { (($0["group"] as? [String: String])?["source"] ?? "?", ($0["snapshots"] as? [Any])?.count ?? -1) }
        #expect(summary.map(\.0) == ["users", "orders", ""], "groups in the order of their oldest snapshot")
        #expect(summary.map(\.1) == [2, 1, 1])

        let byBoth = try #require(try LifeboatCLI.json(try cli.run(["snapshots", "--group-by", "host,source", "--json"])) as? [[String: Any]])
        #expect(byBoth.count == 4)
        #expect(byBoth.contains { ($0["group"] as? [String: String]) == ["host": "replica", "source": "users"] })

        let text = try cli.run(["snapshots", "--group-by", "source"])
        #expect(text.status == 0, "\(text.stderr)")
        let headers = text.stdout.split(separator: "\n").filter { $0.hasSuffix(":") }
        #expect(headers == ["source users:", "source orders:", "source (none):"], "\(text.stdout)")
        #expect(text.stdout.hasSuffix("4 snapshots\n"))

        let bad = try cli.run(["snapshots", "--group-by", "colour"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--group-by"), "\(bad.stderr)")
    }
}
