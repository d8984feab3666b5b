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

    /// The repository's one key file with other scrypt parameters, stored under a name that sorts first.
    static func plantKeyFile(in repoPath: String, n: Int, r: Int, p: Int, nameDigit: Character) async throws -> ObjectName {
        let backend = try LocalDirectoryBackend(path: repoPath)
        let real = try #require(try await backend.list(.keys).first)
        var file = try JSONCoding.decode(KeyFile.self, from: try await backend.read(real.name), what: "key file")
        file.kdfParameters = KDFParameters(n: n, r: r, p: p)
        let name = try ObjectName(.keys, String(repeating: "0", count: 63) + String(nameDigit))
        try await backend.write(name, bytes: JSONCoding.encode(file))
        return name
    }

    @Test("key files asking for scrypt beyond the caps, or too large, are skipped with a warning naming them; the right key still opens the repository, cheapest first")
    func hostileKeyFiles() async throws {
        let scratch = ScratchDirectory()
        let repoPath = scratch.path + "/repo"
        let created = try await TestRepository.create(at: repoPath)
        let realKey = try #require(created.keyName)
        // 16 GiB of table; 4 GiB of work; 64 KiB and one byte of nothing: all sort before the real key.
        let huge = try await Self.plantKeyFile(in: repoPath, n: 1 << 22, r: 32, p: 1, nameDigit: "0")
        let slow = try await Self.plantKeyFile(in: repoPath, n: 1 << 16, r: 32, p: 16, nameDigit: "1")
        let large = try ObjectName(.keys, String(repeating: "0", count: 63) + "2")
        try await LocalDirectoryBackend(path: repoPath).write(large, bytes: [UInt8](repeating: 0x20, count: (64 << 10) + 1))
        // Within the caps but costly (256 MiB), and opened by the same passphrase: the key file
        // of another repository. Tried before the cheap real key, it would open the wrong
        // master key; tried cheapest first, it is never reached (no clock needed to tell).
        let other = scratch.path + "/other"
        _ = try await Repository.initialize(
            backend: try LocalDirectoryBackend(path: other, create: true), passphrase: TestRepository.passphrase, kdf: KDFParameters(n: 1 << 18, r: 8, p: 1),
            host: "testhost", username: "tester")
        let otherKey = try #require(try await LocalDirectoryBackend(path: other).list(.keys).first)
        let costly = try ObjectName(.keys, String(repeating: "0", count: 63) + "3")
        try await LocalDirectoryBackend(path: repoPath).write(costly, bytes: try await LocalDirectoryBackend(path: other).read(otherKey.name))

        let repo = try await TestRepository.open(at: repoPath)
        #expect(repo.keyName == realKey)
        #expect(repo.keyFileWarnings.count == 3, "\(repo.keyFileWarnings)")
        for name in [huge, slow, large] {
            #expect(repo.keyFileWarnings.contains { $0.contains(name.path) }, "\(name.path) is named in \(repo.keyFileWarnings)")
        }
        #expect(!repo.keyFileWarnings.contains { $0.contains(costly.path) })
    }

    @Test("a repository whose key files are all beyond the caps cannot be opened, and the error names them")
    func onlyHostileKeyFiles() async throws {
        let scratch = ScratchDirectory()
        let repoPath = scratch.path + "/repo"
        let created = try await TestRepository.create(at: repoPath)
        let huge = try await Self.plantKeyFile(in: repoPath, n: 1 << 22, r: 32, p: 1, nameDigit: "0")
        try await LocalDirectoryBackend(path: repoPath).delete(try #require(created.keyName))
        await #expect {
            try await TestRepository.open(at: repoPath)
        } throws: { error in
            guard case RepositoryError.noUsableKeys(let reasons, _) = error else { return false }
            return reasons.count == 1 && reasons[0].contains(huge.path) && "\(error)".contains(huge.path)
        }
    }

    @Test("while a snapshot is damaged, 'latest' is an error naming it and the newest intact one, unless asked for the newest intact; its id is reported damaged, not unknown")
    func latestWithDamagedSnapshot() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        try FileTree.write(source + "/a.txt", Array("one".utf8))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let older = try await TestRepository.backup(repo, [source])
        try FileTree.write(source + "/a.txt", Array("two".utf8))
        let newer = try await TestRepository.backup(repo, [source])
        #expect(try await repo.findSnapshot("latest").id == newer.snapshotID)
        // The storage damages (or rolls back into garbage) the newest snapshot.
        let path = scratch.path + "/repo/snapshots/" + newer.snapshotID.hex
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[bytes.count - 5] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))

        await #expect {
            try await repo.findSnapshot("latest")
        } throws: { error in
            guard case RepositoryError.damagedSnapshotsSkipped(let damaged, let newestIntact) = error else { return false }
            return damaged.count == 1 && damaged[0].contains(newer.snapshotID.shortHex) && newestIntact == older.snapshotID.shortHex
        }
        await #expect(throws: RepositoryError.self) { try await repo.intactSnapshots(latestIntact: false) }
        #expect(try await repo.findSnapshot("latest", latestIntact: true).id == older.snapshotID)
        await #expect {
            try await repo.findSnapshot(String(newer.snapshotID.hex.prefix(12)))
        } throws: { error in
            guard case RepositoryError.damaged(let name, _) = error else { return false }
            return name == ObjectName(.snapshots, newer.snapshotID)
        }
        #expect(try await repo.findSnapshot(String(older.snapshotID.hex.prefix(12))).id == older.snapshotID)
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
