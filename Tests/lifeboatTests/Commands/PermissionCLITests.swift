import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What lifeboat does where the system denies it something. Root is denied nothing, and CI
/// runs the tests as root: the built `lifeboat` then runs as an unprivileged user
/// (``Unprivileged``), so these tests run, and mean the same, whoever runs them.
@Suite("lifeboat where permissions deny it, run as an unprivileged user")
struct PermissionCLITests {
    @Test("an unreadable file is a warning with exit 3; the rest is backed up and restores")
    func unreadableFile() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 301)
        let big = rng.bytes(3 << 20)
        try FileTree.write(source + "/big.bin", big)
        try FileTree.write(source + "/notes.txt", Array(String(repeating: "hello lifeboat\n", count: 1000).utf8))
        try FileTree.mkdir(source + "/sub")
        try FileTree.write(source + "/sub/small.bin", rng.bytes(10_000))
        let cli = try Unprivileged.cli(scratch: scratch)
        try FileTree.chmod(source + "/notes.txt", 0)
        try cli.initialize()
        let backup = try cli.run(["backup", source, "--json"])
        #expect(backup.status == 3, "\(backup.stderr)")
        #expect(backup.stderr.contains("notes.txt"), "\(backup.stderr)")
        let json = try #require(try LifeboatCLI.json(backup) as? [String: Any])
        #expect((json["warnings"] as? [String])?.count == 1, "\(json)")
        #expect(json["filesNew"] as? Int == 2, "\(json)")

        let target = scratch.path + "/restored"
        let restore = try cli.run(["restore", "latest", "--target", target])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(FileManager.default.contents(atPath: target + source + "/big.bin") == Data(big))
        #expect(FileManager.default.fileExists(atPath: target + source + "/sub/small.bin"))
        #expect(!FileManager.default.fileExists(atPath: target + source + "/notes.txt"))
    }

    @Test(
        "a command run as root on a repository of another user leaves files and folders that user owns, with the repository's modes: its own snapshots and check still work",
        .enabled(if: geteuid() == 0, "only root writes files for another user"))
    func rootKeepsTheRepositoryOwner() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 307)
        try FileTree.write(source + "/a.bin", rng.bytes(200_000))
        let cli = try Unprivileged.cli(scratch: scratch)
        let user = try #require(Unprivileged.user)
        let owner = try #require(getpwnam(user)).pointee
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        // The owner made its repository group-readable: what root adds must be too.
        #expect(chmod(cli.repository + "/config", 0o640) == 0)

        // Root adds new data (new packs, new index segments, a snapshot, perhaps new folders) and forgets.
        try FileTree.write(source + "/b.bin", rng.bytes(300_000))
        var asRoot = cli
        asRoot.osUser = nil
        asRoot.binary = nil
        let rootBackup = try asRoot.run(["backup", source])
        #expect(rootBackup.status == 0, "\(rootBackup.stderr)")

        var foreign: [String] = []
        let walker = FileManager.default.enumerator(atPath: cli.repository)
        while let relative = walker?.nextObject() as? String {
            let status = try FileStatus.lstat(RawPath(cli.repository + "/" + relative))
            if status.uid != owner.pw_uid || status.gid != owner.pw_gid { foreign.append("\(relative) \(status.uid):\(status.gid)") }
        }
        #expect(foreign.isEmpty, "written by root and not given to \(user): \(foreign)")
        let newest = try #require((try LifeboatCLI.json(try asRoot.run(["snapshots", "--json"])) as? [[String: Any]])?.last?["id"] as? String)
        let snapshotMode = try FileStatus.lstat(RawPath(cli.repository + "/snapshots/" + newest)).mode & 0o777
        #expect(snapshotMode == 0o640, "the snapshot root wrote has the repository's mode: \(String(snapshotMode, radix: 8))")

        let listed = try cli.run(["snapshots", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect((try LifeboatCLI.json(listed) as? [Any])?.count == 2)
        let check = try cli.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        #expect(try cli.run(["backup", source]).status == 0)
    }

    @Test("a repository folder lifeboat may not write to fails the backup with permission denied, and no snapshot or temporary file appears")
    func unwritableFolder() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/f.txt", Array("content\n".utf8))
        let cli = try Unprivileged.cli(scratch: scratch)
        try cli.initialize()
        let snapshots = cli.repository + "/snapshots"
        try FileTree.mkdir(snapshots)
        if let user = Unprivileged.user { try Unprivileged.handOver(snapshots, to: user) }
        try FileTree.chmod(snapshots, 0o500)
        let backup = try cli.run(["backup", source])
        #expect(backup.status != 0)
        #expect(backup.stderr.contains("permission denied"), "\(backup.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: snapshots) == [])
        try FileTree.chmod(snapshots, 0o700)
        let listed = try cli.run(["snapshots", "--json"])
        #expect((try LifeboatCLI.json(listed) as? [Any])?.isEmpty == true, "\(listed.stdout)")
        let check = try cli.run(["check", "--read-data"])
        #expect(check.status == 0, "what was written before the failure checks clean: \(check.stdout) \(check.stderr)")
        #expect(try cli.run(["backup", source]).status == 0)
    }
}
