import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

@Suite("RestoredDataDirectory")
struct RestoredDataDirectoryTests {
    static func kind(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    @Test("a link where a file is written is replaced by the file; what it pointed at keeps its bytes, and reading a link or a FIFO gives nothing")
    func replacesLinks() throws {
        let scratch = ScratchDirectory()
        let data = try scratch.sub("data")
        let victim = scratch.path + "/victim"
        try FileTree.write(victim, Array("secret\n".utf8))
        try FileTree.chmod(victim, 0o600)
        try FileTree.symlink(victim, at: data + "/postgresql.auto.conf")
        try FileTree.symlink(victim, at: data + "/standby.signal")
        try FileTree.fifo(data + "/pg_hba.conf")
        let dir = try RestoredDataDirectory(path: data)
        #expect(dir.read("postgresql.auto.conf") == nil)
        #expect(dir.read("pg_hba.conf") == nil)
        try dir.write("postgresql.auto.conf", "restore_command = 'x'\n")
        try dir.remove("standby.signal")
        #expect(Self.kind(data + "/postgresql.auto.conf") == S_IFREG)
        #expect(dir.read("postgresql.auto.conf") == "restore_command = 'x'\n")
        #expect(Self.kind(data + "/standby.signal") == 0)
        #expect(FileManager.default.contents(atPath: victim) == Data("secret\n".utf8))
        #expect(dir.replacedLinks == ["postgresql.auto.conf -> \(victim)"])
        // A folder under a file's name is an error, not a write into it.
        try FileTree.mkdir(data + "/recovery.signal")
        #expect(throws: FileSystemError.self) { try dir.write("recovery.signal", "") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/recovery.signal").isEmpty)
    }

    @Test("pg_wal and tablespace links become real, empty folders inside the directory; what they pointed at is left alone")
    func realFolders() throws {
        let scratch = ScratchDirectory()
        let data = try scratch.sub("data")
        let productionWal = try scratch.sub("production-wal")
        let tablespace = try scratch.sub("tablespace")
        try FileTree.write(productionWal + "/000000010000000000000001", [1, 2, 3])
        try FileTree.write(tablespace + "/PG_17_1", [4])
        try FileTree.symlink(productionWal, at: data + "/pg_wal")
        try FileTree.mkdir(data + "/pg_tblspc")
        try FileTree.symlink(tablespace, at: data + "/pg_tblspc/16384")
        let dir = try RestoredDataDirectory(path: data)
        try dir.makeWalFolder()
        try dir.makeTablespaceFolders(oids: ["16385", "../../etc"])
        #expect(Self.kind(data + "/pg_wal") == S_IFDIR && Self.kind(data + "/pg_wal/archive_status") == S_IFDIR)
        #expect(Self.kind(data + "/pg_tblspc/16384") == S_IFDIR && Self.kind(data + "/pg_tblspc/16385") == S_IFDIR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/pg_tblspc").sorted() == ["16384", "16385"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: productionWal) == ["000000010000000000000001"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tablespace) == ["PG_17_1"])
        #expect(Set(dir.replacedLinks) == ["pg_wal -> \(productionWal)", "pg_tblspc/16384 -> \(tablespace)"])

        // Removing the read-ahead folder removes a link in it, not what it names.
        try FileTree.mkdir(data + "/pg_wal/lifeboat-prefetch")
        try FileTree.symlink(productionWal, at: data + "/pg_wal/lifeboat-prefetch/elsewhere")
        dir.removeTree(["pg_wal", "lifeboat-prefetch"])
        #expect(Self.kind(data + "/pg_wal/lifeboat-prefetch") == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: productionWal) == ["000000010000000000000001"])
    }

    @Test("a sandbox is removed with what it holds; a link in it is removed itself, what it names is kept")
    func removesSandbox() throws {
        let scratch = ScratchDirectory()
        let outside = try scratch.sub("outside")
        try FileTree.write(outside + "/keep", [1])
        let sandbox = try scratch.sub("sandbox")
        try FileTree.mkdir(sandbox + "/data")
        try FileTree.mkdir(sandbox + "/data/base")
        try FileTree.write(sandbox + "/data/base/1", [2])
        try FileTree.symlink(outside, at: sandbox + "/data/pg_wal")
        try FileTree.symlink(outside + "/keep", at: sandbox + "/data/file")
        RestoredDataDirectory.removeTree(atPath: sandbox)
        #expect(Self.kind(sandbox) == 0)
        #expect(FileManager.default.contents(atPath: outside + "/keep") == Data([1]))
    }
}
