import Foundation
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

@Suite("FileTreeBackup")
struct FileTreeBackupTests {
    /// A source tree of a few files, one of them several chunks long.
    func makeSource(_ scratch: ScratchDirectory, seed: UInt64 = 1) throws -> String {
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: seed)
        try FileTree.write(source + "/big.bin", rng.bytes(3 << 20))
        try FileTree.write(source + "/notes.txt", Array(String(repeating: "hello lifeboat\n", count: 1000).utf8))
        try FileTree.mkdir(source + "/sub")
        try FileTree.write(source + "/sub/small.bin", rng.bytes(10_000))
        return source
    }

    /// The tree blob of `path` inside a snapshot.
    func subtree(_ repo: Repository, _ snapshot: Snapshot, _ path: String) async throws -> BlobID? {
        let index = try await repo.loadIndex()
        var tree = try await repo.loadTree(snapshot.tree, index: index)
        var id: BlobID? = snapshot.tree
        for component in path.split(separator: "/") {
            id = tree.node(named: Array(component.utf8))?.subtree
            guard let id else { return nil }
            tree = try await repo.loadTree(id, index: index)
        }
        return id
    }

    @Test("the first backup is FULL; the next is INCREMENTAL and reads only what changed")
    func incremental() async throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let first = try await TestRepository.backup(repo, [source])
        #expect(first.snapshot.type == .full)
        #expect(first.snapshot.parent == nil)
        #expect(first.snapshot.statistics.filesNew == 3)
        #expect(first.snapshot.statistics.bytesRead == Int64(3 << 20) + 15000 + 10000)

        let unchanged = try await TestRepository.backup(repo, [source])
        #expect(unchanged.snapshot.type == .incremental)
        #expect(unchanged.snapshot.parent == first.snapshotID)
        #expect(unchanged.snapshot.statistics.bytesRead == 0)
        #expect(unchanged.snapshot.statistics.filesUnmodified == 3)
        // The directories above the source (/tmp...) change all the time; the source's own tree must not.
        #expect(try await subtree(repo, unchanged.snapshot, source) == subtree(repo, first.snapshot, source))

        try FileTree.append(source + "/notes.txt", Array("one more line\n".utf8))
        let changed = try await TestRepository.backup(repo, [source])
        #expect(changed.snapshot.statistics.bytesRead == 15014)
        #expect(changed.snapshot.statistics.filesChanged == 1)
        #expect(changed.snapshot.statistics.filesUnmodified == 2)
    }

    @Test("FULL reads every byte even when nothing changed, and stores no content again")
    func full() async throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        _ = try await TestRepository.backup(repo, [source])
        let again = try await TestRepository.backup(repo, [source], type: .full)
        #expect(again.snapshot.type == .full)
        #expect(again.snapshot.statistics.bytesRead == Int64(3 << 20) + 25000)
        // At most the trees of the directories above the source, whose times changed.
        #expect(again.snapshot.statistics.blobsAdded <= source.split(separator: "/").count)
        #expect(again.snapshot.statistics.bytesAdded < 100_000)
        #expect(again.snapshot.statistics.filesUnmodified == 3)
    }

    @Test("every snapshot restores on its own: an incremental one after its parent's packs are gone is still complete by index")
    func noChains() async throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        _ = try await TestRepository.backup(repo, [source])
        try FileTree.write(source + "/new.txt", Array("new".utf8))
        let second = try await TestRepository.backup(repo, [source])
        // The second snapshot's tree refers to every file, reused or not.
        let index = try await repo.loadIndex()
        var files: [String] = []
        try await TreeWalker(repository: repo, index: index).walk(second.snapshot.tree) { path, node in
            if node.type == .file {
                files.append(path)
                #expect(node.content.allSatisfy(index.contains), "\(path) refers to a blob outside the index")
            }
        }
        #expect(files.count == 4)
    }

    @Test("every name of a hardlinked file is counted once as a file")
    func hardlinkCounting() async throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        try FileTree.hardlink(source + "/notes.txt", at: source + "/sub/notes-link.txt")
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let result = try await TestRepository.backup(repo, [source])
        #expect(result.snapshot.statistics.filesNew == 4)
    }

    @Test("excluded names and paths are left out")
    func excludes() async throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        try FileTree.write(source + "/skip.tmp", [1])
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let result = try await TestRepository.backup(repo, [source], excludes: ["*.tmp", source + "/sub"])
        let index = try await repo.loadIndex()
        var paths: [String] = []
        try await TreeWalker(repository: repo, index: index).walk(result.snapshot.tree) { path, _ in paths.append(path) }
        #expect(!paths.contains { $0.hasSuffix("skip.tmp") || $0.hasSuffix("/sub") })
        #expect(paths.contains { $0.hasSuffix("notes.txt") })
    }

    @Test("a file that keeps changing while it is read is reported, after every retry saw it change")
    func changedWhileRead() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        let path = source + "/changing.bin"
        // Larger than a pack (16 MiB) and read whole by one reader (under 32 MiB): a pack is
        // written while the file is being read, and each time one is, the test rewrites
        // the file. Random bytes: every read of a new content fills a pack again.
        let size = 24 << 20
        let rewriter = FileRewriter(path: path, size: size, seed: 5)
        try rewriter.rewrite()
        _ = try await TestRepository.create(at: scratch.path + "/repo")
        let backend = HookedBackend(try LocalDirectoryBackend(path: scratch.path + "/repo")) { name in
            if name.kind == .data { try rewriter.rewrite() }
        }
        let repo = try await Repository.open(backend: backend, passphrase: TestRepository.passphrase)
        var options = BackupOptions(paths: [source], host: "testhost", username: "tester")
        options.changedFileRetries = 2
        let result = try await FileTreeBackup(repository: repo).backup(options)
        #expect(rewriter.rewrites >= 4, "the file was written \(rewriter.rewrites) times: once, then once in each of the three reads")
        #expect(result.warnings.contains { $0.contains("changing.bin changed while it was read (3 attempts)") }, "\(result.warnings)")
    }

    @Test("a path that does not exist stops the backup with a clear error")
    func missingSource() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        await #expect(throws: BackupError.self) { try await TestRepository.backup(repo, [scratch.path + "/nope"]) }
    }
}

/// Rewrites a file in place with new random bytes (seeded), counting the rewrites.
final class FileRewriter: Sendable {
    let path: String
    let size: Int
    private let state: Mutex<(rng: SeededBytes, rewrites: Int)>

    init(path: String, size: Int, seed: UInt64) {
        self.path = path
        self.size = size
        state = Mutex((SeededBytes(seed: seed), 0))
    }

    var rewrites: Int { state.withLock { $0.rewrites } }

    func rewrite() throws {
        let bytes = state.withLock { s in
            s.rewrites += 1
            return s.rng.bytes(size)
        }
        let fd = open(path, O_WRONLY | O_CREAT, 0o644)
        guard fd >= 0 else { throw FileSystemError("open", RawPath(path), errno: errno) }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard n == size else { throw FileSystemError("pwrite", RawPath(path), errno: errno) }
    }
}

@Suite("FileTreeBackup read-back")
struct FileTreeBackupReadBackTests {
    @Test("with the read-back on, a backup reads back what it wrote and records it; damage in the location stops it before the snapshot")
    func readBack() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("src")
        var rng = SeededBytes(seed: 77)
        try FileTree.write(source + "/a.bin", rng.bytes(3 << 20))
        try FileTree.write(source + "/b.txt", Array(String(repeating: "line\n", count: 5000).utf8))
        _ = try await TestRepository.create(at: scratch.path + "/repo")
        let repo = try await TestRepository.open(at: scratch.path + "/repo")
        var options = BackupOptions(paths: [source], host: "h", username: "u")
        options.readsBack = true
        let good = try await FileTreeBackup(repository: repo).backup(options)
        let post = try #require(good.snapshot.checks.post)
        #expect(post.passed)
        #expect(post.details.contains("read back") && post.details.contains("every SHA-256 and blob authenticated"), "\(post.details)")

        _ = try await TestRepository.create(at: scratch.path + "/bad-plain")
        let corrupting = CorruptingPackBackend(try LocalDirectoryBackend(path: scratch.path + "/bad-plain"))
        let bad = try await Repository.open(backend: corrupting, passphrase: TestRepository.passphrase)
        await #expect(throws: BackupError.self) { _ = try await FileTreeBackup(repository: bad).backup(options) }
        // No snapshot (the folder is made by the first snapshot written).
        let snapshots = scratch.path + "/bad-plain/snapshots"
        let written = FileManager.default.fileExists(atPath: snapshots) ? try FileManager.default.contentsOfDirectory(atPath: snapshots) : []
        #expect(written.isEmpty)
    }
}

@Suite("FileTreeBackup against a tree that changes under the walk")
struct FileTreeBackupSwapTests {
    /// A backup of `source` whose `afterLook` hook runs `swap` once, when the walk has
    /// looked at `victim` and not yet opened it.
    func backup(_ scratch: ScratchDirectory, _ source: String, swapping victims: [String: @Sendable () -> Void]) async throws -> BackupResult {
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        var options = BackupOptions(paths: [source], host: "testhost", username: "tester")
        let pending = Mutex(victims)
        options.afterLook = { path in
            let swap = pending.withLock { $0.removeValue(forKey: path.description) }
            swap?()
        }
        let result = try await FileTreeBackup(repository: repo).backup(options)
        #expect(pending.withLock { $0.isEmpty }, "every swap ran")
        return result
    }

    @Test("a file replaced after the walk looked at it is stored with the metadata of the file read, not the walk's")
    func replacedFile() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        try FileTree.write(source + "/victim", Array("walked content".utf8))
        try FileTree.chmod(source + "/victim", 0o600)
        let kept = scratch.path + "/kept"
        let result = try await backup(
            scratch, source,
            swapping: [
                source + "/victim": {
                    // The walked file stays alive under another name, so its inode is not reused.
                    try? FileTree.hardlink(source + "/victim", at: kept)
                    try? FileTree.write(source + "/.new", Array("replacement content".utf8))
                    try? FileTree.chmod(source + "/.new", 0o644)
                    _ = rename(source + "/.new", source + "/victim")
                }
            ])
        let repo = try await TestRepository.open(at: scratch.path + "/repo")
        let index = try await repo.loadIndex()
        let node = try await repo.node(at: source + "/victim", in: result.snapshot.tree, index: index)
        var content: [UInt8] = []
        for id in node.content { content += try await repo.loadBlob(try #require(index.location(of: id))) }
        let now = try FileStatus.lstat(RawPath(source + "/victim"))
        #expect(String(decoding: content, as: UTF8.self) == "replacement content")
        #expect(node.mode == 0o644 && node.inode == now.inode && node.sizeBytes == UInt64(content.count), "mode \(String(node.mode, radix: 8)), inode \(node.inode) vs \(now.inode)")
    }

    @Test("a directory swapped for a symlink after the walk looked at it is not followed", .timeLimit(.minutes(3)))
    func directorySwappedForSymlink() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        let outside = try scratch.sub("outside")
        try FileTree.write(outside + "/secret", Array("not to be backed up".utf8))
        try FileTree.mkdir(source + "/dir")
        try FileTree.write(source + "/dir/inside", [1])
        let result = try await backup(
            scratch, source,
            swapping: [
                source + "/dir": {
                    _ = rename(source + "/dir", scratch.path + "/dir-moved")
                    try? FileTree.symlink(outside, at: source + "/dir")
                }
            ])
        #expect(result.warnings.contains { $0.contains(source + "/dir was replaced or removed after it was listed") }, "\(result.warnings)")
        let repo = try await TestRepository.open(at: scratch.path + "/repo")
        var paths: [String] = []
        try await TreeWalker(repository: repo, index: try await repo.loadIndex()).walk(result.snapshot.tree) { path, _ in paths.append(path) }
        #expect(!paths.contains { $0.hasSuffix("/secret") }, "\(paths)")
    }

    @Test("a FIFO or a symlink that took a file's name after the walk looked is skipped with a warning, never read", .timeLimit(.minutes(3)))
    func fileSwappedForFifoOrSymlink() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        let secret = scratch.path + "/secret"
        try FileTree.write(secret, Array("not to be backed up".utf8))
        try FileTree.write(source + "/fifo-victim", [1])
        try FileTree.write(source + "/link-victim", [2])
        let result = try await backup(
            scratch, source,
            swapping: [
                source + "/fifo-victim": {
                    _ = unlink(source + "/fifo-victim")
                    try? FileTree.fifo(source + "/fifo-victim")
                },
                source + "/link-victim": {
                    _ = unlink(source + "/link-victim")
                    try? FileTree.symlink(secret, at: source + "/link-victim")
                },
            ])
        #expect(result.warnings.contains { $0.contains(source + "/fifo-victim: was replaced by a fifo after it was listed") }, "\(result.warnings)")
        #expect(result.warnings.contains { $0.contains(source + "/link-victim") }, "\(result.warnings)")
        let repo = try await TestRepository.open(at: scratch.path + "/repo")
        let index = try await repo.loadIndex()
        for name in ["fifo-victim", "link-victim"] {
            await #expect(throws: RepositoryError.self) { _ = try await repo.node(at: source + "/" + name, in: result.snapshot.tree, index: index) }
        }
    }

    @Test("a file dated past 2262 backs up with a warning, stored at the latest time a tree holds; the snapshot restores and checks")
    func timeBeyondTheFormat() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        try FileTree.write(source + "/future", Array("from the future".utf8))
        // 2262-04-11T23:47:16.854775808Z: one nanosecond past what an i64 of nanoseconds holds.
        try FileTree.setMtime(source + "/future", seconds: 9_223_372_036, nanoseconds: 854_775_808)
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let first = try await TestRepository.backup(repo, [source])
        #expect(first.warnings.contains { $0.contains(source + "/future: its mtime") && $0.contains("outside what a snapshot records") }, "\(first.warnings)")
        let second = try await TestRepository.backup(repo, [source])
        #expect(second.snapshot.statistics.filesUnmodified == 1, "the clamped time compares equal to itself in the next run")

        let result = try await Restorer(repository: repo).restore(second.snapshot, options: RestoreOptions(target: scratch.path + "/restore"))
        #expect(result.isComplete, "\(result.errors) \(result.damagedFiles)")
        let restored = try FileStatus.lstat(RawPath(scratch.path + "/restore" + source + "/future"))
        #expect(restored.mtime == FileTime(seconds: 9_223_372_036, nanoseconds: 854_775_807))
        let report = try await Checker(repository: repo).check(readData: true)
        #expect(report.isOK, "\(report.errors)")
    }
}
