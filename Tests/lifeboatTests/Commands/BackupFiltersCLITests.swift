import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat backup: exclude files, case-insensitive excludes, caches, marker files, files-from, host, one file system")
struct BackupFiltersCLITests {
    func snapshotPaths(_ cli: LifeboatCLI) throws -> Set<String> {
        let items = try #require(try LifeboatCLI.json(try cli.run(["ls", "latest", "--json"])) as? [[String: Any]])
        return Set(items.compactMap { $0["path"] as? String })
    }

    @Test("each filter leaves out what it names and keeps the rest; the snapshot records the filters")
    func filters() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/keep.txt", [1])
        try FileTree.write(source + "/trace.LOG", [2])
        try FileTree.write(source + "/build.o", [3])
        try FileTree.mkdir(source + "/cache")
        try FileTree.write(source + "/cache/CACHEDIR.TAG", Array("Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n".utf8))
        try FileTree.write(source + "/cache/blob", [4])
        try FileTree.mkdir(source + "/fake-cache")
        try FileTree.write(source + "/fake-cache/CACHEDIR.TAG", Array("not a signature".utf8))
        try FileTree.write(source + "/fake-cache/kept", [5])
        try FileTree.mkdir(source + "/private")
        try FileTree.write(source + "/private/.nobackup", [])
        try FileTree.write(source + "/private/secret", [6])
        let other = try scratch.sub("other")
        try FileTree.write(other + "/listed.txt", [7])
        let excludes = scratch.path + "/excludes"
        try "# objects\n*.o\n\n".write(toFile: excludes, atomically: true, encoding: .utf8)
        let list = scratch.path + "/paths"
        try "# what to back up\n\(other)\n".write(toFile: list, atomically: true, encoding: .utf8)

        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let out = try cli.run([
            "backup", source, "--files-from", list, "--exclude-file", excludes, "--iexclude", "*.log", "--exclude-caches",
            "--exclude-if-present", ".nobackup", "--host", "db-primary",
        ])
        #expect(out.status == 0, "\(out.stderr)")
        let paths = try snapshotPaths(cli)
        for kept in ["/keep.txt", "/cache", "/cache/CACHEDIR.TAG", "/fake-cache/CACHEDIR.TAG", "/fake-cache/kept", "/private", "/private/.nobackup"] {
            #expect(paths.contains(source + kept), "\(kept) is kept")
        }
        for left in ["/trace.LOG", "/build.o", "/cache/blob", "/private/secret"] {
            #expect(!paths.contains(source + left), "\(left) is left out")
        }
        #expect(paths.contains(other + "/listed.txt"))

        let snapshots = try #require(try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [[String: Any]])
        #expect(snapshots.last?["host"] as? String == "db-primary")

        let missing = try cli.run(["backup", source, "--exclude-file", scratch.path + "/nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("--exclude-file \(scratch.path)/nope: cannot be read"), "\(missing.stderr)")
        let misplaced = try cli.run(["backup", "--sqlite", scratch.path + "/x.db", "--exclude-caches"])
        #expect(misplaced.status == 64)
    }

    @Test("--one-file-system keeps a mount point empty, but reads a named path whatever it is mounted on", .enabled(if: FileTree.isRoot, "mounting a tmpfs needs root"))
    func oneFileSystem() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/here.txt", [1])
        let mounted = try SmallFileSystem(at: source + "/mnt", sizeMiB: 1)
        try FileTree.write(mounted.path + "/there.txt", [2])
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()

        #expect(try cli.run(["backup", source, "-x"]).status == 0)
        var paths = try snapshotPaths(cli)
        #expect(paths.contains(source + "/here.txt"))
        #expect(paths.contains(source + "/mnt"))
        #expect(!paths.contains(source + "/mnt/there.txt"))

        #expect(try cli.run(["backup", mounted.path, "--one-file-system"]).status == 0)
        paths = try snapshotPaths(cli)
        #expect(paths.contains(mounted.path + "/there.txt"))

        #expect(try cli.run(["backup", source]).status == 0)
        paths = try snapshotPaths(cli)
        #expect(paths.contains(source + "/mnt/there.txt"))
    }
}
