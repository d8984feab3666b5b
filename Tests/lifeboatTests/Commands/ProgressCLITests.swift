import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

/// The tests' stderr is a pipe: no progress unless `--verbose` asks for it, whatever the speed
/// of the machine; the last reading is always printed, so each check below has a line to read.
@Suite("progress on stderr: --verbose, --quiet, JSON lines")
struct ProgressCLITests {
    @Test("restore, check --read-data and replicate report done and total with -v (JSON lines with --json); nothing piped without it; -q with -v is a usage error")
    func longVerbs() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 151)
        try FileTree.write(source + "/a.bin", rng.bytes(2_000_000))
        try FileTree.write(source + "/b.bin", rng.bytes(1_000_000))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let backup = try cli.run(["backup", source, "-v"])
        #expect(backup.status == 0 && backup.stderr.contains("FULL: 2 new"), "\(backup.stderr)")

        let restore = try cli.run(["restore", "latest", "--target", scratch.path + "/r", "-v"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stderr.contains("restoring files: 2/2, 2.9 MiB/2.9 MiB (100%)"), "\(restore.stderr)")

        let quiet = try cli.run(["restore", "latest", "--target", scratch.path + "/q", "--overwrite", "always"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("restoring files"), "piped stderr without -v: \(quiet.stderr)")

        let check = try cli.run(["check", "--read-data", "--json", "-v"])
        #expect(check.status == 0, "\(check.stderr)")
        let lines = check.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let last = try #require(lines.last?["progress"] as? [String: Any], "no JSON progress line: \(check.stderr)")
        #expect(last["verb"] as? String == "check" && last["phase"] as? String == "reading packs" && last["final"] as? Bool == true)
        #expect((last["itemsDone"] as? Int).map { $0 > 0 } == true && last["itemsDone"] as? Int == last["itemsTotal"] as? Int, "\(last)")
        #expect(last["bytesDone"] as? Int == last["bytesTotal"] as? Int, "\(last)")
        #expect((try LifeboatCLI.json(check) as? [String: Any])?["errors"] != nil, "stdout keeps its one JSON document")

        let copy = try cli.run(["replicate", "--to", scratch.path + "/copy", "-v"])
        #expect(copy.status == 0 && copy.stderr.contains("copying objects: "), "\(copy.stderr)")
        let bundle = try cli.run(["airgap", "export", "--to", scratch.path + "/bundle", "-v"])
        #expect(bundle.status == 0 && bundle.stderr.contains("copying objects: "), "\(bundle.stderr)")
        // Half of a.bin's blobs are no longer needed once the first snapshot goes: prune repacks.
        try FileTree.write(source + "/a.bin", rng.bytes(2_000_000))
        #expect(try cli.run(["backup", source]).status == 0)
        #expect(try cli.run(["forget", "--keep-last", "1"]).status == 0)
        let prune = try cli.run(["prune", "--pack-grace", "0", "--max-unused", "0", "-v"])
        #expect(prune.status == 0, "\(prune.stderr)")

        let both = try cli.run(["restore", "latest", "--target", scratch.path + "/x", "-q", "-v"])
        #expect(both.status == 64 && both.stderr.contains("--quiet and --verbose contradict each other"), "\(both.stderr)")
        let silent = try cli.run(["backup", source, "-q"])
        #expect(silent.status == 0 && silent.stderr.isEmpty, "\(silent.stderr)")
    }

    @Test("run -v shows its backup's progress when piped; -q nothing")
    func run() throws {
        let scratch = ScratchDirectory()
        let app = try scratch.sub("app")
        try FileTree.write(app + "/settings.yaml", Array("pool: 8\n".utf8))
        let config = scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app, kind: files, paths: [\(app)] }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let cli = try LifeboatCLI(scratch: scratch)
        let env = cli.environment(config: config)
        #expect(try cli.run(["init", "--kdf-n", "1024"], environment: env).status == 0)
        let verbose = try cli.run(["run", "app", "-v"], environment: env)
        #expect(verbose.status == 0 && verbose.stderr.contains("FULL backup of \(app)"), "\(verbose.stderr)")
        let quiet = try cli.run(["run", "app", "-q"], environment: env)
        #expect(quiet.status == 0 && !quiet.stderr.contains("backup of"), "\(quiet.stderr)")
    }
}
