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
        let source = try scratch.sub("source")
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

    @Test("rotate re-seals at every replica too: the old master key opens no data key anywhere; a write-once medium is reported, not skipped silently")
    func rotateReplicas() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 92)
        try FileTree.write(source + "/a.bin", rng.bytes(200_000))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        _ = try await TestRepository.backup(repo, [source])
        let cloudBackend = try LocalDirectoryBackend(path: scratch.path + "/cloud", create: true)
        let mediumBackend = try RemovableMediaBackend(path: scratch.path + "/usb", create: true)
        _ = try await Replicator.copy(repo, to: cloudBackend, medium: nil, host: "h", username: "u")
        _ = try await Replicator.copy(repo, to: mediumBackend, medium: "usb-1", host: "h", username: "u")
        // A data key only the cloud copy has (a snapshot the primary has forgotten long ago).
        let cloudBefore = try await open(scratch.path + "/cloud", TestRepository.passphrase)
        try FileTree.write(source + "/b.bin", rng.bytes(50_000))
        _ = try await TestRepository.backup(cloudBefore, [source])
        let oldMaster = repo.masterKey
        let cloud = try await open(scratch.path + "/cloud", TestRepository.passphrase)
        let medium = try await Repository.open(backend: mediumBackend, passphrase: TestRepository.passphrase)

        let report = try await KeyManager(repository: repo).rotate(
            passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u", replicas: [cloud, medium])
        #expect(report.replicas.count == 2)
        #expect(report.replicas[0].error == nil && report.replicas[0].dataKeysResealed == report.dataKeysResealed + 1)
        #expect(report.replicas[1].error != nil, "a write-once medium keeps its old key files, and says so")

        for path in [scratch.path + "/repo", scratch.path + "/cloud"] {
            let backend = try LocalDirectoryBackend(path: path)
            #expect(try await backend.list(.keys).map(\.name) == [report.newKey])
            for info in try await backend.list(.dataKeys) {
                let file = try JSONCoding.decode(DataKeyFile.self, from: try await backend.read(info.name), what: "data key")
                #expect(throws: CryptoError.self) { _ = try file.open(with: oldMaster) }
            }
        }
        // The same sealed files where both have the key: a later replication sends nothing new.
        let here = Set(try await LocalDirectoryBackend(path: scratch.path + "/repo").list(.dataKeys).map(\.name))
        let there = Set(try await cloudBackend.list(.dataKeys).map(\.name))
        #expect(here.isSubset(of: there) && there.count == here.count + 1)
        let rotatedCloud = try await open(scratch.path + "/cloud", TestRepository.passphrase)
        let check = try await Checker(repository: rotatedCloud).check(readData: true)
        #expect(check.isOK && check.snapshotsChecked == 2, "\(check.errors)")
    }

    @Test("rotate re-seals, and keeps, the data keys a backup and a wal push wrote after the rotating process opened the repository")
    func rotateKeepsKeysWrittenSinceOpen() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 93)
        try FileTree.write(source + "/a.bin", rng.bytes(100_000))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        _ = try await TestRepository.backup(repo, [source])
        // The rotating process opens the repository first; another process then backs up and
        // archives WAL through its own handle before the rotation takes the lock.
        let rotating = try await TestRepository.open(at: scratch.path + "/repo")
        let other = try await TestRepository.open(at: scratch.path + "/repo")
        try FileTree.write(source + "/b.bin", rng.bytes(100_000))
        let later = try await TestRepository.backup(other, [source])
        let segment = scratch.path + "/000000010000000000000007"
        try Data(rng.bytes(64 << 10)).write(to: URL(fileURLWithPath: segment))
        _ = try await WalArchive(repository: other).push(path: segment, host: "h", username: "u")
        let filesBefore = try await LocalDirectoryBackend(path: scratch.path + "/repo").list(.dataKeys).count
        #expect(filesBefore == 3)

        let report = try await KeyManager(repository: rotating).rotate(
            passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u")
        #expect(report.dataKeysResealed == filesBefore)
        #expect(report.dataKeyFilesKept.isEmpty)

        let rotated = try await TestRepository.open(at: scratch.path + "/repo")
        #expect(try await rotated.backend.list(.dataKeys).count == filesBefore)
        let check = try await Checker(repository: rotated).check(readData: true)
        #expect(check.isOK && check.snapshotsChecked == 2, "\(check.errors)")
        let target = scratch.path + "/restore"
        #expect(try await Restorer(repository: rotated).restore(later.snapshot, options: RestoreOptions(target: target)).isComplete)
        #expect(FileManager.default.contents(atPath: target + source + "/b.bin") == FileManager.default.contents(atPath: source + "/b.bin"))
        let fetched = scratch.path + "/fetched"
        _ = try await WalArchive(repository: rotated).fetch(WalFileName("000000010000000000000007")!, to: fetched)
        #expect(FileManager.default.contents(atPath: fetched) == FileManager.default.contents(atPath: segment))
    }

    @Test("rotate leaves a data key file that does not open with the master key in place, and names it")
    func rotateKeepsUnopenedFiles() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 94)
        try FileTree.write(source + "/a.bin", rng.bytes(50_000))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        _ = try await TestRepository.backup(repo, [source])
        // Sealed under another master key: this one cannot open it, so cannot have re-sealed it.
        let foreign = JSONCoding.encode(DataKeyFile.seal(DataKey.generate(), under: MasterKey.generate(), created: Date()))
        let foreignName = ObjectName(.dataKeys, Digest256.sha256(foreign))
        try await repo.backend.write(foreignName, bytes: foreign)

        let report = try await KeyManager(repository: repo).rotate(
            passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u")
        #expect(report.dataKeyFilesKept == [foreignName])
        #expect(report.dataKeysResealed == 1)
        #expect(try await repo.backend.read(foreignName) == foreign)
    }

    /// Rewrites the plaintext `purpose` and `created` of a data key file, as whoever holds the storage can.
    static func relabel(_ name: ObjectName, purpose: String, in backend: any StorageBackend) async throws -> ObjectName {
        var file = try JSONCoding.decode(DataKeyFile.self, from: try await backend.read(name), what: "data key")
        file.purpose = purpose
        file.created = Date()
        let bytes = JSONCoding.encode(file)
        let relabelled = ObjectName(.dataKeys, Digest256.sha256(bytes))
        try await backend.write(relabelled, bytes: bytes)
        try await backend.delete(name)
        return relabelled
    }

    @Test("a WAL-only key opens the WAL data keys made since it exists, and nothing else; what it archives the full key reads; rotation retires it")
    func walOnlyKey() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        try FileTree.write(source + "/a.txt", Array("backup content".utf8))
        let repoPath = scratch.path + "/repo"
        let repo = try await TestRepository.create(at: repoPath)
        let backup = try await TestRepository.backup(repo, [source])
        var rng = SeededBytes(seed: 98)
        func segment(_ n: Int) throws -> (path: String, file: WalFileName) {
            let name = String(format: "0000000100000000000000%02X", n)
            try Data(rng.bytes(20_000)).write(to: URL(fileURLWithPath: scratch.path + "/" + name))
            return (scratch.path + "/" + name, WalFileName(name)!)
        }
        let early = try segment(1)
        _ = try await WalArchive(repository: repo).push(path: early.path, host: "h", username: "u")
        _ = try await KeyManager(repository: repo).addWalOnly(passphrase: "wal only", kdf: TestRepository.cheapKDF, host: "h", username: "u")
        let backend = try LocalDirectoryBackend(path: repoPath)

        await #expect(throws: CryptoError.walOnlyKey) { try await Repository.open(backend: backend, passphrase: "wal only") }
        let walRepo = try await Repository.open(backend: backend, passphrase: "wal only", scope: .walArchive)
        #expect(walRepo.isWalOnly)
        #expect(walRepo.masterKey.blobID(of: [1, 2, 3]) != repo.masterKey.blobID(of: [1, 2, 3]), "the blob-ID key is not given away")
        await #expect(throws: RepositoryError.self) { try await walRepo.loadSnapshot(backup.snapshotID) }
        await #expect(throws: CryptoError.walOnlyKey) { try await TestRepository.backup(walRepo, [source]) }
        await #expect(throws: CryptoError.walOnlyKey) {
            try await KeyManager(repository: walRepo).add(passphrase: "x", kdf: TestRepository.cheapKDF, host: "h", username: "u")
        }
        let fetched = scratch.path + "/fetched"
        await #expect(throws: RepositoryError.self, "WAL sealed before the WAL-only key existed stays with the full key") {
            try await WalArchive(repository: walRepo).fetch(early.file, to: fetched)
        }

        // The storage relabels the backup's data key as a fresh WAL key: a full-key push must not take it.
        var backupKeyFile: ObjectName?
        for info in try await backend.list(.dataKeys) {
            let file = try JSONCoding.decode(DataKeyFile.self, from: try await backend.read(info.name), what: "data key")
            if file.id == backup.snapshot.dataKey { backupKeyFile = info.name }
        }
        _ = try await Self.relabel(try #require(backupKeyFile), purpose: DataKey.walPurpose, in: backend)
        let full = try await TestRepository.open(at: repoPath)
        let sameDay = try segment(2)
        _ = try await WalArchive(repository: full).push(path: sameDay.path, host: "h", username: "u")
        let walRepoAgain = try await Repository.open(backend: backend, passphrase: "wal only", scope: .walArchive)
        #expect(!walRepoAgain.allDataKeys.contains { $0.id == backup.snapshot.dataKey }, "no copy of the backup's key was made")
        _ = try await WalArchive(repository: walRepoAgain).fetch(sameDay.file, to: fetched)
        #expect(FileManager.default.contents(atPath: fetched) == FileManager.default.contents(atPath: sameDay.path))
        #expect(walRepoAgain.allDataKeys.allSatisfy { $0.purpose == DataKey.walPurpose || $0.purpose == DataKey.walKeyEncryptionPurpose })

        // Two days later: the push makes a new WAL data key, through the WAL-only key alone.
        let later = try segment(3)
        _ = try await WalArchive(repository: walRepoAgain).push(path: later.path, now: Date() + 2 * 86_400, host: "h", username: "u")
        let fullAgain = try await TestRepository.open(at: repoPath)
        _ = try await WalArchive(repository: fullAgain).fetch(later.file, to: fetched)
        #expect(FileManager.default.contents(atPath: fetched) == FileManager.default.contents(atPath: later.path))

        let report = try await KeyManager(repository: fullAgain).rotate(
            passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u")
        #expect(report.dataKeyFilesKept.isEmpty, "\(report.dataKeyFilesKept)")
        await #expect(throws: CryptoError.wrongPassphrase) { try await Repository.open(backend: backend, passphrase: "wal only", scope: .walArchive) }
        let rotated = try await TestRepository.open(at: repoPath)
        #expect(!rotated.allDataKeys.contains { $0.purpose == DataKey.walKeyEncryptionPurpose })
        let check = try await Checker(repository: rotated).check(readData: true)
        #expect(check.isOK, "\(check.errors)")
        for segment in [early, sameDay, later] { _ = try await WalArchive(repository: rotated).fetch(segment.file, to: fetched) }
    }

    @Test("a data key relabelled as the WAL key-encryption key is neither taken for it nor dropped by key rotate")
    func relabelledWalKEK() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        try FileTree.write(source + "/a.txt", Array("backup content".utf8))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let backup = try await TestRepository.backup(repo, [source])
        let name = try #require(try await repo.backend.list(.dataKeys).first?.name)
        let relabelled = try await Self.relabel(name, purpose: DataKey.walKeyEncryptionPurpose, in: repo.backend)
        let opened = try await TestRepository.open(at: scratch.path + "/repo")
        #expect(!opened.allDataKeys.contains { $0.id == backup.snapshot.dataKey })
        let report = try await KeyManager(repository: opened).rotate(
            passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u")
        #expect(report.dataKeyFilesKept == [relabelled], "left in place, and named")
        #expect(try await repo.backend.exists(relabelled))
    }

    @Test("key add waits for no rotation: while another process holds the exclusive lock it fails and writes no key file")
    func addRespectsRotationLock() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        // A rotation running on another host holds the exclusive lock.
        let lock = RepositoryLock(host: "otherhost", pid: 4242, username: "u", exclusive: true, created: Date(), expires: Date() + 600)
        try await repo.backend.write(ObjectName(.locks, Digest256.random().hex), bytes: JSONCoding.encode(lock))
        await #expect(throws: RepositoryError.self) {
            try await KeyManager(repository: repo).add(passphrase: "late", kdf: TestRepository.cheapKDF, host: "h", username: "u")
        }
        #expect(try await repo.backend.list(.keys).count == 1)
    }
}
