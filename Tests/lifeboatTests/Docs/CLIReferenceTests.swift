import Foundation
import LifeboatTestSupport
import Testing

/// docs/cli.md is what a newcomer reads: its verbs, their flags and its example files must be
/// what the binary does (issue 15). Each check reads the document afresh, so a verb or flag
/// added without its section, or a section left behind by a rename, fails here.
@Suite("docs/cli.md against the binary")
struct CLIReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let scratch = ScratchDirectory()

    func document() throws -> String { try String(contentsOf: Self.root.appendingPathComponent("docs/cli.md"), encoding: .utf8) }

    /// Each `### \`lifeboat …\`` heading's synopses: `lifeboat plan validate <file>` / `plan
    /// create …` gives ["plan validate <file>", "plan create …"].
    func synopses() throws -> [String] {
        try document().split(separator: "\n").filter { $0.hasPrefix("### `lifeboat ") }.flatMap { heading in
            heading.dropFirst("### ".count).components(separatedBy: "` / `").map { part in
                var s = part.trimmingCharacters(in: CharacterSet(charactersIn: "`"))
                if s.hasPrefix("lifeboat ") { s.removeFirst("lifeboat ".count) }
                return s
            }
        }
    }

    /// The words of a synopsis that name its (sub)command: up to the first argument or option.
    static func verbPath(_ synopsis: String) -> [String] {
        Array(synopsis.split(separator: " ").prefix { $0.first?.isLetter == true && $0.allSatisfy { $0.isLowercase || $0 == "-" } }.map(String.init))
    }

    func help(_ path: [String]) throws -> String {
        let out = try Shell.run(LifeboatCLI.executable, ["help"] + path)
        #expect(out.status == 0, "lifeboat help \(path.joined(separator: " ")): \(out.stderr)")
        return out.stdout
    }

    @Test("every verb and subcommand of the binary has its section, and every section names a verb the binary has")
    func everyVerbDocumented() throws {
        let documented = try Set(synopses().map { Self.verbPath($0).first ?? "" })
        let listed = try Self.subcommands(in: help([]))
        #expect(listed.count > 20, "the verbs were not found in lifeboat --help")
        for verb in listed where verb != "help" {
            #expect(documented.contains(verb), "lifeboat \(verb) has no ### section in docs/cli.md")
        }
        for verb in documented { #expect(listed.contains(verb), "docs/cli.md documents lifeboat \(verb), which the binary does not have") }
        // Groups (`key`, `plan`, `recover`, …): each subcommand is named in a synopsis of the group.
        for group in listed where try !Self.subcommands(in: help([group])).isEmpty {
            let named = try Set(synopses().map(Self.verbPath).filter { $0.first == group }.flatMap { $0.dropFirst() })
            let text = try synopses().filter { Self.verbPath($0).first == group }.joined(separator: " ")
            for sub in try Self.subcommands(in: help([group])) where sub != "help" {
                let mentioned = named.contains(sub) || text.contains("| \(sub)") || text.contains("\(sub) |") || text.contains("[\(sub)]")
                #expect(mentioned, "lifeboat \(group) \(sub) is not in docs/cli.md's synopses of \(group)")
            }
        }
    }

    @Test("every option a section's synopsis shows is an option of that verb")
    func everyDocumentedOptionExists() throws {
        var checked = 0
        for synopsis in try synopses() {
            let path = Self.verbPath(synopsis)
            guard !path.isEmpty else { continue }
            let options = synopsis.matches(of: /(?:^|[\s\[|(])(--[a-z][a-z0-9-]*|-[a-zA-Z])\b/).map { String($0.1) }
            guard !options.isEmpty else { continue }
            // `key list | add | …` names several subcommands: the group's help lists them. A
            // group with a default subcommand (`recover <plan>` is `recover run`) takes its options.
            var text = try help(path)
            if let fallback = text.firstMatch(of: /\n  ([a-z-]+) \(default\)/) { text += try help(path + [String(fallback.1)]) }
            for option in Set(options) {
                checked += 1
                #expect(text.contains(option), "docs/cli.md shows `lifeboat \(path.joined(separator: " ")) … \(option)`, which its --help does not have")
            }
        }
        #expect(checked > 100, "the synopses' options were not found")
    }

    @Test("the example lifeboat.yaml validates, and so does the example plan against it")
    func examplesValidate() throws {
        let blocks = try document().components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
        try #require(blocks.count >= 3, "docs/cli.md's yaml examples were not found")
        let config = scratch.path + "/lifeboat.yaml"
        // The locations example, then the sources example (the two make one file).
        try (blocks[0] + "\n" + blocks[1] + "\n").write(toFile: config, atomically: true, encoding: .utf8)
        let check = try Shell.run(LifeboatCLI.executable, ["config", "check", "--no-probe", "--config", config])
        #expect(check.status == 0, "docs/cli.md's example configuration: \(check.stdout) \(check.stderr)")

        let plan = try #require(blocks.first { $0.hasPrefix("name: ") && $0.contains("steps:") }, "the example plan")
        let planFile = scratch.path + "/plan.yaml"
        try plan.write(toFile: planFile, atomically: true, encoding: .utf8)
        let validated = try Shell.run(LifeboatCLI.executable, ["plan", "validate", planFile, "--config", config])
        #expect(validated.status == 0, "docs/cli.md's example plan: \(validated.stdout) \(validated.stderr)")
    }

    @Test("the shell examples run as written, against a repository that holds /srv/app (mapped into a scratch folder)")
    func shellExamplesRun() throws {
        let blocks = try document().components(separatedBy: "```sh\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
        try #require(!blocks.isEmpty, "docs/cli.md's shell examples were not found")
        let app = scratch.path + "/srv/app"
        try FileTree.mkdir(app)
        try FileTree.write(app + "/config.yaml", Array("pool: 8\n".utf8))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", app]).status == 0)
        let binDirectory = URL(fileURLWithPath: LifeboatCLI.executable).deletingLastPathComponent().path
        var environment = cli.environment
        environment["PATH"] = binDirectory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        for block in blocks {
            // The documented paths, moved under the scratch folder; /tmp/app-copy is made first, as its reader would.
            let script = "set -e; mkdir -p \"$S/tmp/app-copy\"; cd \"$S\"\n"
                + block.replacingOccurrences(of: "/srv/app", with: "\"$S\"/srv/app").replacingOccurrences(of: "/tmp/app-copy", with: "\"$S\"/tmp/app-copy")
            let out = try Shell.run("/bin/sh", ["-c", script], environment: environment.merging(["S": scratch.path]) { $1 })
            #expect(out.status == 0, "docs/cli.md's example failed:\n\(block)\n\(out.stderr)")
        }
        #expect(FileManager.default.contents(atPath: scratch.path + "/config.yaml") == Data("pool: 8\n".utf8))
        #expect(FileManager.default.contents(atPath: scratch.path + "/tmp/app-copy/app/config.yaml") == Data("pool: 8\n".utf8))
    }

    /// The SUBCOMMANDS of a help text.
    static func subcommands(in help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        return help[start.upperBound...].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first, word.first?.isLowercase == true else { return nil }
            return String(word)
        }
    }
}
