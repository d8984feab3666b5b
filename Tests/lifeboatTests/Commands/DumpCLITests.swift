import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat dump")
struct DumpCLITests {
    /// Runs `lifeboat ARGS > output` and returns its status and stderr.
    func dump(_ cli: LifeboatCLI, _ arguments: [String], into output: String) throws -> Shell.Output {
        try Shell.run(
            "/bin/sh", ["-c", "exec \"$@\" > \"$OUT\"", "sh", cli.binary ?? LifeboatCLI.executable, "dump"] + arguments,
            environment: cli.environment.merging(["OUT": output]) { $1 })
    }

    func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test("a file is written byte for byte; a folder becomes a tar stream that tar extracts to the same tree")
    func fileAndFolder() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 7)
        try FileTree.write(source + "/big.bin", rng.bytes(3_000_000))
        try FileTree.write(source + "/empty", [])
        // Longer than ustar's 100-byte name field, and not ASCII: it needs a pax record.
        let longName = String(repeating: "é", count: 70) + ".txt"
        try FileTree.mkdir(source + "/docs")
        try FileTree.write(source + "/docs/" + longName, Array("long\n".utf8))
        try FileTree.symlink("../big.bin", at: source + "/docs/link")
        try FileTree.hardlink(source + "/big.bin", at: source + "/docs/same.bin")
        try FileTree.setMtime(source + "/empty", seconds: 1_700_000_000, nanoseconds: 123_456_789)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)

        let file = scratch.path + "/big.out"
        let one = try dump(cli, ["latest", source + "/big.bin"], into: file)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(contents(file) == contents(source + "/big.bin"))
        let tar = scratch.path + "/data.tar"
        let folder = try dump(cli, ["latest", source], into: tar)
        #expect(folder.status == 0, "\(folder.stderr)")
        let extracted = try scratch.sub("extracted")
        let untar = try Shell.run("/bin/tar", ["-x", "-f", tar, "-C", extracted])
        #expect(untar.status == 0, "\(untar.stderr)")
        // Names start at the folder's own name.
        let copy = extracted + "/data"
        #expect(contents(copy + "/big.bin") == contents(source + "/big.bin"))
        #expect(contents(copy + "/empty") == Data())
        #expect(contents(copy + "/docs/" + longName) == Data("long\n".utf8))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: copy + "/docs/link") == "../big.bin")
        let a = try FileManager.default.attributesOfItem(atPath: copy + "/big.bin")
        let b = try FileManager.default.attributesOfItem(atPath: copy + "/docs/same.bin")
        #expect(a[.systemFileNumber] as? Int == b[.systemFileNumber] as? Int, "the hardlink stays one file")
        var st = stat()
        #expect(stat(copy + "/empty", &st) == 0)
        #expect(st.st_mtim.tv_sec == 1_700_000_000 && st.st_mtim.tv_nsec == 123_456_789, "pax keeps the nanoseconds")

        // The whole snapshot: names are the absolute paths without their leading slash.
        let all = scratch.path + "/all.tar"
        #expect(try dump(cli, ["latest", "/"], into: all).status == 0)
        let listing = try Shell.run("/bin/tar", ["-t", "-f", all]).stdout
        #expect(listing.contains(String(source.dropFirst()) + "/big.bin"))

        // --source picks that source's latest, as for restore, ls and diff.
        let other = try scratch.sub("other")
        try FileTree.write(other + "/note.txt", Array("other\n".utf8))
        #expect(try cli.run(["backup", other, "--tag", "source:notes"]).status == 0)
        let bySource = try dump(cli, ["latest", source + "/big.bin", "--source", "notes"], into: scratch.path + "/none.out")
        #expect(bySource.status == 1 && bySource.stderr.contains("\(source)/big.bin is not in the snapshot"), "notes' latest has no such file: \(bySource.stderr)")
        let note = scratch.path + "/note.out"
        #expect(try dump(cli, ["latest", other + "/note.txt", "--source", "notes"], into: note).status == 0)
        #expect(contents(note) == Data("other\n".utf8))
    }

    @Test("a path that is not in the snapshot, or a symlink, is refused with a message and nothing written")
    func refusals() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/a.txt", [1, 2, 3])
        try FileTree.symlink("a.txt", at: source + "/link")
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)

        let out = scratch.path + "/out"
        let missing = try dump(cli, ["latest", source + "/nope.txt"], into: out)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("\(source)/nope.txt is not in the snapshot") && !missing.stderr.contains("no snapshot matches"), "\(missing.stderr)")
        #expect(contents(out) == Data())
        let link = try dump(cli, ["latest", source + "/link"], into: out)
        #expect(link.status == 1)
        #expect(link.stderr.contains("symlink to a.txt"), "\(link.stderr)")
        #expect(contents(out) == Data())
    }
}
