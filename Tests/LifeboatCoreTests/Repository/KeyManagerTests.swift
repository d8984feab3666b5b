import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("KeyManager")
struct KeyManagerTests {
    func open(_ path: String, _ passphrase: String) async throws -> Repository {
        try await Repository.open(backend: try LocalDirectoryBackend(path: path), passphrase: passphrase)
    }

    @Test("keys can be added, listed and removed, but not the one in use nor the last")
    func addRemove() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let manager = KeyManager(repository: repo)
        let added = try await manager.add(passphrase: "second", kdf: TestRepository.cheapKDF, host: "h", username: "u")
        #expect(try await manager.list().count == 2)
        _ = try await open(scratch.path + "/repo", "second")
        let opened = try await open(scratch.path + "/repo", TestRepository.passphrase)
        await #expect(throws: KeyError.self) { try await KeyManager(repository: opened).remove(prefix: String(opened.keyName!.name.prefix(10))) }
        _ = try await KeyManager(repository: opened).remove(prefix: String(added.name.prefix(10)))
        await #expect(throws: CryptoError.self) { try await open(scratch.path + "/repo", "second") }
        await #expect(throws: KeyError.self) { try await KeyManager(repository: opened).remove(prefix: "") }
    }

    @Test("passwd replaces the passphrase in use")
    func passwd() async throws {
        let scratch = ScratchDirectory()
        _ = try await TestRepository.create(at: scratch.path + "/repo")
        let repo = try await TestRepository.open(at: scratch.path + "/repo")
        _ = try await KeyManager(repository: repo).changePassphrase(to: "new one", kdf: TestRepository.cheapKDF, host: "h", username: "u")
        _ = try await open(scratch.path + "/repo", "new one")
        await #expect(throws: CryptoError.self) { try await TestRepository.open(at: scratch.path + "/repo") }
    }

    @Test("rotate re-seals every data key under a new master key; data, dedup and restores are untouched")
    func rotate() async throws {
        let scratch = ScratchDirectory()
        let source = scratch.sub("source")
        var rng = SeededBytes(seed: 91)
        try FileTree.write(source + "/a.bin", rng.bytes(500_000))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let backup = try await TestRepository.backup(repo, [source])
        _ = try await KeyManager(repository: repo).add(passphrase: "other", kdf: TestRepository.cheapKDF, host: "h", username: "u")
        let packsBefore = TestRepository.allObjects(at: scratch.path + "/repo").filter { $0.key.hasPrefix("data/") }
        let oldKeyFiles = TestRepository.allObjects(at: scratch.path + "/repo").filter { $0.key.hasPrefix("datakeys/") }

        let report = try await KeyManager(repository: repo).rotate(
            passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u")
        #expect(report.dataKeysResealed == oldKeyFiles.count)
        let objects = TestRepository.allObjects(at: scratch.path + "/repo")
        #expect(objects.filter { $0.key.hasPrefix("data/") } == packsBefore, "no pack is rewritten")
        #expect(Set(objects.keys.filter { $0.hasPrefix("datakeys/") }).isDisjoint(with: oldKeyFiles.keys))
        await #expect(throws: CryptoError.self) { try await open(scratch.path + "/repo", "other") }

        let rotated = try await TestRepository.open(at: scratch.path + "/repo")
        #expect(rotated.masterKey.blobID(of: [1, 2, 3]) == repo.masterKey.blobID(of: [1, 2, 3]))
        let check = try await Checker(repository: rotated).check(readData: true)
        #expect(check.isOK, "\(check.errors)")
        let target = scratch.path + "/restore"
        #expect(try await Restorer(repository: rotated).restore(backup.snapshot, options: RestoreOptions(target: target)).isComplete)
        let again = try await TestRepository.backup(rotated, [source], type: .full)
        #expect(again.snapshot.statistics.bytesAdded < 100_000, "deduplication survives the rotation")
    }
}
