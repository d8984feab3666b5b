import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat backup --dry-run")
struct BackupDryRunCLITests {
    /// Every file under the repository but its locks (which a dry run takes like any reader).
    func objects(_ repo: String) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: repo).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: repo + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue && !path.hasPrefix("locks/")
        }.sorted()
    }

    @Test("says what a backup would add, against the same parent, and stores nothing: no object, no snapshot; databases are refused")
    func dryRun() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 161)
        try FileTree.write(source + "/a.bin", rng.bytes(400_000))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let before = try objects(cli.repository)

        let first = try cli.run(["backup", source, "--dry-run"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("dry run: a FULL backup would read 1 new, 0 changed and 0 unmodified files") && first.stdout.contains("nothing was stored"), "\(first.stdout)")
        #expect(try objects(cli.repository) == before, "a dry run wrote into the repository")
        #expect((try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [Any])?.isEmpty == true, "a dry run made a snapshot")

        let real = try cli.run(["backup", source, "--json"])
        try #require(real.status == 0, "\(real.stderr)")
        let snapshot = try #require((try LifeboatCLI.json(real) as? [String: Any])?["snapshotId"] as? String)
        try FileTree.write(source + "/b.bin", rng.bytes(1000))
        let stored = try objects(cli.repository)
        let second = try cli.run(["backup", source, "--dry-run", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let json = try #require(try LifeboatCLI.json(second) as? [String: Any])
        #expect(json["dryRun"] as? Bool == true && json["type"] as? String == "INCREMENTAL" && json["parent"] as? String == snapshot, "\(json)")
        #expect(json["filesNew"] as? Int == 1 && json["filesUnmodified"] as? Int == 1 && json["bytesRead"] as? Int == 1000, "\(json)")
        #expect(try objects(cli.repository) == stored, "a dry run wrote into the repository")
        #expect(try cli.run(["check", "--read-data"]).status == 0)

        let database = try cli.run(["backup", "--sqlite", scratch.path + "/app.db", "--dry-run"])
        #expect(database.status == 64 && database.stderr.contains("--dry-run is for paths"), "\(database.stderr)")
    }
}
