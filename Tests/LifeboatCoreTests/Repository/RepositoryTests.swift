import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("Repository")
struct RepositoryTests {
    @Test("a repository opens with its passphrase; a wrong one fails and writes nothing")
    func wrongPassphrase() async throws {
        let scratch = ScratchDirectory()
        let repoPath = scratch.path + "/repo"
        _ = try await TestRepository.create(at: repoPath)
        let before = TestRepository.allObjects(at: repoPath)
        await #expect {
            try await Repository.open(backend: try LocalDirectoryBackend(path: repoPath), passphrase: "wrong")
        } throws: { error in
            if case CryptoError.wrongPassphrase = error { return true }
            return false
        }
        #expect(TestRepository.allObjects(at: repoPath) == before)
        _ = try await TestRepository.open(at: repoPath)
    }

    @Test("init refuses a location that already holds a repository")
    func initTwice() async throws {
        let scratch = ScratchDirectory()
        _ = try await TestRepository.create(at: scratch.path)
        await #expect(throws: RepositoryError.self) { try await TestRepository.create(at: scratch.path) }
    }

    @Test("a location without config is not a repository")
    func notARepository() async throws {
        let scratch = ScratchDirectory()
        await #expect(throws: RepositoryError.self) {
            try await Repository.open(backend: try LocalDirectoryBackend(path: scratch.path), passphrase: "x")
        }
    }

    @Test("no plaintext of file contents or names appears anywhere in the repository")
    func noPlaintext() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source/secret-directory-name-4711")
        let marker = "TOP-SECRET-MARKER-0123456789"
        try FileTree.write(source + "/confidential-file-name-4711.txt", Array(String(repeating: marker + "\n", count: 5000).utf8))
        try FileTree.write(source + "/small.txt", Array(marker.utf8))
        try FileTree.symlink("link-target-name-4711", at: source + "/link")
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        _ = try await TestRepository.backup(repo, [scratch.path + "/source"], excludes: [])
        for (name, bytes) in TestRepository.allObjects(at: scratch.path + "/repo") {
            for needle in [marker, "secret-directory-name-4711", "confidential-file-name-4711", "link-target-name-4711"] {
                #expect(bytes.range(of: Data(needle.utf8)) == nil, "\(needle) found in \(name)")
            }
        }
    }

    @Test("snapshots are found by unique prefix or 'latest'; ambiguous and unknown prefixes are errors")
    func findSnapshot() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("src")
        try FileTree.write(source + "/a", [1])
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let first = try await TestRepository.backup(repo, [source])
        try FileTree.write(source + "/b", [2])
        let second = try await TestRepository.backup(repo, [source])
        #expect(try await repo.findSnapshot("latest").id == second.snapshotID)
        #expect(try await repo.findSnapshot(String(first.snapshotID.hex.prefix(10))).id == first.snapshotID)
        await #expect(throws: RepositoryError.self) { try await repo.findSnapshot("zzzz") }
        await #expect(throws: RepositoryError.self) { try await repo.findSnapshot("") }
    }

    @Test("a repository held open sees the data keys other processes wrote since: it lists, checks, restores and backs up on their snapshots")
    func dataKeysWrittenElsewhere() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 301)
        try FileTree.write(source + "/a.bin", rng.bytes(300_000))
        _ = try await TestRepository.create(at: scratch.path + "/repo")
        let longLived = try await TestRepository.open(at: scratch.path + "/repo")
        // Another process: its own open, its own backup run, its own data key.
        let other = try await TestRepository.open(at: scratch.path + "/repo")
        let theirs = try await TestRepository.backup(other, [source])

        #expect(try await longLived.snapshots().map(\.id) == [theirs.snapshotID])
        let check = try await Checker(repository: longLived).check(readData: true)
        #expect(check.isOK, "\(check.errors)")
        let restored = try await Restorer(repository: longLived).restore(theirs.snapshot, options: RestoreOptions(target: scratch.path + "/r"))
        #expect(restored.isComplete)
        try FileTree.write(source + "/b.bin", rng.bytes(1000))
        let mine = try await TestRepository.backup(longLived, [source])
        #expect(mine.snapshot.parent == theirs.snapshotID && mine.snapshot.statistics.filesUnmodified == 1)
        // A key that exists nowhere is still reported as missing.
        #expect(throws: RepositoryError.self) { _ = try longLived.dataKey(DataKeyID(Digest256.random())) }
    }
}
