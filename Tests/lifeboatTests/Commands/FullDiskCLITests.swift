import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

/// A full disk under the repository or the restore target: every verb fails with a sentence
/// and a non-zero status, and leaves each location consistent (`check --read-data` clean,
/// every snapshot restorable) and working again once there is space.
@Suite("lifeboat on a full disk", .enabled(if: FileTree.isRoot, "mounting a small tmpfs needs root"))
struct FullDiskCLITests {
    /// A repository on its own 64 MiB tmpfs with one snapshot of `source` (6 MiB of random data).
    struct Setup {
        let scratch = ScratchDirectory("fulldisk")
        let disk: SmallFileSystem
        let cli: LifeboatCLI
        let source: String

        init() throws {
            cli = try LifeboatCLI(scratch: scratch)
            disk = try SmallFileSystem(at: cli.repository, sizeMiB: 64)
            source = try scratch.sub("data")
            var rng = SeededBytes(seed: 64)
            try FileTree.write(source + "/a.bin", rng.bytes(3 << 20))
            try FileTree.write(source + "/b.bin", rng.bytes(3 << 20))
            try cli.initialize()
            let first = try cli.run(["backup", source])
            precondition(first.status == 0, "first backup failed: \(first.stderr)")
        }

        /// After the disk has room again: the repository checks clean and its newest snapshot
        /// restores `source` as it is now.
        func expectConsistent(_ context: String) throws {
            try disk.free()
            let check = try cli.run(["check", "--read-data"])
            #expect(check.status == 0, "\(context): check \(check.stdout) \(check.stderr)")
            let target = scratch.path + "/restore-\(UUID().uuidString)"
            let restore = try cli.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "\(context): restore \(restore.stderr)")
            for name in ["a.bin", "b.bin"] where FileManager.default.fileExists(atPath: source + "/" + name) {
                #expect(
                    FileManager.default.contents(atPath: target + source + "/" + name) == FileManager.default.contents(atPath: source + "/" + name),
                    "\(context): \(name) restored differently")
            }
        }
    }

    static func saysNoSpace(_ output: Shell.Output) -> Bool {
        output.stderr.lowercased().contains("no space left")
    }

    @Test("a repository with no byte left refuses every writer at its lock, with a sentence, and changes nothing")
    func nothingLeft() throws {
        let s = try Setup()
        let before = TestRepository.allObjects(at: s.cli.repository)
        try s.disk.fill()
        let segment = s.scratch.path + "/000000010000000000000001"
        try FileTree.write(segment, [1, 2, 3])
        for args in [["backup", s.source], ["wal", "push", segment], ["prune", "--pack-grace", "0"]] {
            let out = try s.cli.run(args)
            #expect(out.status == 1 && Self.saysNoSpace(out), "\(args): \(out.status) \(out.stderr)")
        }
        #expect(TestRepository.allObjects(at: s.cli.repository).filter { !$0.key.contains(".filler") } == before)
        try s.expectConsistent("after writers were refused on a full disk")
    }

    @Test("a backup into a full repository fails with a sentence, and the next one with room succeeds")
    func backup() throws {
        let s = try Setup()
        var rng = SeededBytes(seed: 65)
        try FileTree.write(s.source + "/c.bin", rng.bytes(2 << 20))
        // Room for the lock and the run's data key, not for the pack.
        try s.disk.fill(leavingBytes: 64 << 10)
        let full = try s.cli.run(["backup", s.source])
        #expect(full.status == 1, "\(full.status) \(full.stderr)")
        #expect(Self.saysNoSpace(full) && !full.stderr.contains("locks/"), "past its lock: \(full.stderr)")
        #expect(try s.cli.run(["snapshots", "--json"]).stdout.components(separatedBy: "\"id\"").count == 2, "no second snapshot")
        try s.disk.free()
        let again = try s.cli.run(["backup", s.source])
        #expect(again.status == 0, "\(again.stderr)")
        try s.expectConsistent("after a backup into a full disk")
    }

    @Test("wal push into a full repository fails, archives nothing, and succeeds once there is room")
    func walPush() throws {
        let s = try Setup()
        let segment = s.scratch.path + "/000000010000000000000001"
        var rng = SeededBytes(seed: 66)
        try FileTree.write(segment, rng.bytes(1 << 20))
        try s.disk.fill(leavingBytes: 64 << 10)
        let full = try s.cli.run(["wal", "push", segment])
        #expect(full.status != 0, "\(full.stderr)")
        #expect(Self.saysNoSpace(full) && !full.stderr.contains("locks/"), "past its lock: \(full.stderr)")
        try s.disk.free()
        #expect(try s.cli.run(["wal", "list"]).stdout.contains("000000010000000000000001") == false)
        let again = try s.cli.run(["wal", "push", segment])
        #expect(again.status == 0, "\(again.stderr)")
        try s.expectConsistent("after wal push into a full disk")
    }

    @Test("a prune that cannot write its repacked pack stops, deletes nothing still needed, and finishes once there is room")
    func prune() throws {
        let s = try Setup()
        try FileManager.default.removeItem(atPath: s.source + "/a.bin")
        #expect(try s.cli.run(["backup", s.source]).status == 0)
        #expect(try s.cli.run(["forget", "--keep-last", "1"]).status == 0)
        // Room for the lock, not for the repacked pack.
        try s.disk.fill(leavingBytes: 64 << 10)
        let full = try s.cli.run(["prune", "--pack-grace", "0"])
        #expect(full.status != 0, "\(full.stdout) \(full.stderr)")
        #expect(Self.saysNoSpace(full) && !full.stderr.contains("locks/"), "past its lock: \(full.stderr)")
        try s.expectConsistent("after a prune on a full disk")
        let again = try s.cli.run(["prune", "--pack-grace", "0"])
        #expect(again.status == 0, "\(again.stderr)")
        try s.expectConsistent("after the prune that had room")
    }

    @Test("a restore into a full target fails naming the file, and leaves no half-written file or temporary behind")
    func restore() throws {
        let s = try Setup()
        let target = s.scratch.path + "/target"
        let small = try SmallFileSystem(at: target, sizeMiB: 4)
        let out = try s.cli.run(["restore", "latest", "--target", target])
        #expect(out.status != 0, "\(out.stderr)")
        #expect(Self.saysNoSpace(out), "\(out.stderr)")
        let left = try FileManager.default.subpathsOfDirectory(atPath: small.path)
        #expect(!left.contains { $0.contains(".lifeboat-restore-") }, "temporaries left: \(left)")
        for name in ["a.bin", "b.bin"] {
            let path = target + s.source + "/" + name
            if let restored = FileManager.default.contents(atPath: path) {
                #expect(restored == FileManager.default.contents(atPath: s.source + "/" + name), "\(name) is there but differs")
            }
        }
    }
}
