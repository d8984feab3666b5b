import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat backup --stdin")
struct BackupStdinCLITests {
    /// `lifeboat backup ARGS < input`.
    func backup(_ cli: LifeboatCLI, _ arguments: [String], from input: String) throws -> Shell.Output {
        try Shell.run(
            "/bin/sh", ["-c", "exec \"$@\" < \"$IN\"", "sh", LifeboatCLI.executable, "backup"] + arguments,
            environment: cli.environment.merging(["IN": input]) { $1 })
    }

    @Test("a pipe is stored whole as one file at the snapshot's root, restores and dumps byte for byte, and a second pipe of the same bytes adds nearly nothing")
    func pipe() throws {
        let scratch = ScratchDirectory()
        var rng = SeededBytes(seed: 171)
        let input = scratch.path + "/dump.sql"
        try FileTree.write(input, rng.bytes(3_000_000))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        // Through a real pipe, as from pg_dump: no size is known ahead.
        let piped = try Shell.run(
            "/bin/sh", ["-c", "cat \"$IN\" | \"$0\" backup --stdin --stdin-filename app.sql --json", LifeboatCLI.executable],
            environment: cli.environment.merging(["IN": input]) { $1 })
        #expect(piped.status == 0, "\(piped.stderr)")
        let first = try #require(try LifeboatCLI.json(piped) as? [String: Any])
        #expect(first["paths"] as? [String] == ["/app.sql"] && first["bytesRead"] as? Int == 3_000_000, "\(first)")

        let out = scratch.path + "/restored"
        #expect(try cli.run(["restore", "latest", "--target", out]).status == 0)
        #expect(FileManager.default.contents(atPath: out + "/app.sql") == FileManager.default.contents(atPath: input))

        let again = try backup(cli, ["--stdin", "--stdin-filename", "app.sql", "--json"], from: input)
        #expect(again.status == 0, "\(again.stderr)")
        let second = try #require(try LifeboatCLI.json(again) as? [String: Any])
        #expect((second["bytesAdded"] as? Int).map { $0 < 10_000 } == true, "the same bytes are deduplicated: \(second)")
        #expect(try cli.run(["check", "--read-data"]).status == 0)

        let empty = try backup(cli, ["--stdin"], from: "/dev/null")
        #expect(empty.status == 0, "an empty stream is an empty file named stdin: \(empty.stderr)")
        #expect(try cli.run(["ls", "latest"]).stdout.contains("/stdin"))
    }

    @Test("--stdin stands alone: with paths, filters, a name with '/', or --stdin-filename without --stdin it is a usage error")
    func refusals() throws {
        let scratch = ScratchDirectory()
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        for (arguments, words) in [
            (["--stdin", scratch.path], "--stdin backs up standard input alone"),
            (["--stdin", "--exclude", "*.tmp"], "are for paths, not --stdin"),
            (["--stdin", "--stdin-filename", "a/b"], "must be one name without '/'"),
            (["--stdin-filename", "x.sql", scratch.path], "--stdin-filename goes with --stdin"),
        ] {
            let out = try backup(cli, arguments, from: "/dev/null")
            #expect(out.status == 64 && out.stderr.contains(words), "\(arguments): \(out.stderr)")
        }
        #expect((try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [Any])?.isEmpty == true)
    }
}
