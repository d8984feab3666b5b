import Foundation
import LifeboatTestSupport
import Testing

@Suite("lifeboat --json errors")
struct ExitStatusCLITests {
    /// The error object a failed `--json` run writes on stderr.
    private static func error(_ output: Shell.Output) throws -> [String: Any] {
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line on stderr: \(output.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data((lines.last ?? "").utf8)) as? [String: Any])
        return try #require(object["error"] as? [String: Any], "\(object)")
    }

    @Test("with --json every failure is one JSON object on stderr naming the exit status, its code and the message; without it, a line of text")
    func jsonErrors() throws {
        let scratch = ScratchDirectory()
        let cli = try LifeboatCLI(scratch: scratch)

        let missing = try cli.run(["snapshots", "--json"])
        #expect(missing.status == 10)
        #expect(missing.stdout.isEmpty)
        let e = try Self.error(missing)
        #expect(e["status"] as? String == "noRepository" && e["code"] as? Int == 10, "\(e)")
        #expect((e["message"] as? String)?.contains("lifeboat init") == true, "\(e)")

        let text = try cli.run(["snapshots"])
        #expect(text.status == 10)
        #expect(text.stderr.hasPrefix("lifeboat: "), "\(text.stderr)")

        try cli.initialize()
        let usage = try cli.run(["forget", "--keep-within", "soon", "--json"])
        #expect(usage.status == 64)
        let u = try Self.error(usage)
        #expect(u["status"] as? String == "usage" && u["code"] as? Int == 64, "\(u)")
        #expect((u["message"] as? String)?.contains("not a duration") == true, "\(u)")

        let unknownOption = try cli.run(["restore", "latest", "--json", "--colour"])
        #expect(unknownOption.status == 64)
        #expect(try Self.error(unknownOption)["status"] as? String == "usage")

        let notFound = try cli.run(["ls", "ffffffff", "--json"])
        #expect(notFound.status == 1)
        let n = try Self.error(notFound)
        #expect(n["status"] as? String == "failure" && (n["message"] as? String)?.contains("no snapshot matches 'ffffffff'") == true, "\(n)")

        try FileTree.write(scratch.path + "/wrong", Array("not the passphrase\n".utf8))
        let wrong = try cli.run(["snapshots", "--json", "--password-file", scratch.path + "/wrong"])
        #expect(wrong.status == 12)
        #expect(try Self.error(wrong)["status"] as? String == "wrongPassphrase")

        let help = try cli.run(["snapshots", "--help", "--json"])
        #expect(help.status == 0 && help.stdout.contains("USAGE"), "help is not an error")
    }
}
