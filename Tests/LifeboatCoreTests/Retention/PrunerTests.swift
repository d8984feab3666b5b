import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("Pruner and Forgetter")
struct PrunerTests {
    /// Two snapshots: the first with a file only it has, both with a shared file.
    func twoSnapshots(_ scratch: ScratchDirectory) async throws -> (Repository, String, BackupResult, BackupResult) {
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 81)
        try FileTree.write(source + "/shared.bin", rng.bytes(1 << 20))
        try FileTree.write(source + "/only-first.bin", rng.bytes(3 << 20))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let first = try await TestRepository.backup(repo, [source])
        try FileManager.default.removeItem(atPath: source + "/only-first.bin")
        try FileTree.write(source + "/only-second.bin", rng.bytes(2 << 20))
        let second = try await TestRepository.backup(repo, [source])
        return (repo, source, first, second)
    }

    /// A pruner that spares no pack for its age: these tests prune right after backing up.
    func eager(_ repo: Repository) -> Pruner {
        var pruner = Pruner(repository: repo)
        pruner.packGracePeriod = .zero
        return pruner
    }

    func packBytes(_ path: String) -> Int {
        TestRepository.allObjects(at: path).filter { $0.key.hasPrefix("data/") }.values.reduce(0) { $0 + $1.count }
    }

    @Test("forget removes the snapshots a policy does not keep; prune then frees their data and the rest still restores")
    func forgetThenPrune() async throws {
        let scratch = ScratchDirectory()
        let (repo, source, first, second) = try await twoSnapshots(scratch)
        let forgetter = Forgetter(repository: repo)
        let plan = try await forgetter.plan(RetentionPolicy(last: 1))
        #expect(plan.forgotten.map(\.id) == [first.snapshotID])
        try await forgetter.execute(plan, host: "testhost", username: "tester")
        #expect(try await repo.snapshots().map(\.id) == [second.snapshotID])

        let before = packBytes(scratch.path + "/repo")
        let report = try await eager(repo).prune(host: "testhost", username: "tester")
        #expect(report.blobsRemoved >= 3)
        let after = packBytes(scratch.path + "/repo")
        #expect(before - after > 2 << 20, "prune freed \(before - after) bytes")

        let check = try await Checker(repository: repo).check(readData: true)
        #expect(check.isOK, "\(check.errors)")
        #expect(check.warnings.isEmpty, "\(check.warnings)")
        let target = scratch.path + "/restore"
        let restored = try await Restorer(repository: repo).restore(second.snapshot, options: RestoreOptions(target: target))
        #expect(restored.isComplete)
        #expect(DirectoryComparison.differences(source, target + source, compareDirectoryTimes: false) == [])
    }

    @Test("prune repacks partly used packs without re-encrypting, and removes packs no index names")
    func repackAndUnindexed() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 82)
        // Both files land in one pack; forgetting the snapshot with the big one leaves it mostly unused.
        try FileTree.write(source + "/keep.bin", rng.bytes(300_000))
        try FileTree.write(source + "/drop.bin", rng.bytes(3 << 20))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let first = try await TestRepository.backup(repo, [source])
        try FileManager.default.removeItem(atPath: source + "/drop.bin")
        let second = try await TestRepository.backup(repo, [source])
        try await repo.backend.delete(ObjectName(.snapshots, first.snapshotID))
        // A pack left by a killed backup.
        let key = try await repo.createDataKey(now: Date())
        var builder = PackBuilder(dataKey: key, nominalTargetBytes: 1 << 20)
        _ = builder.append(sealedBlob: rng.bytes(1000), type: .data, id: BlobID(Digest256.random()), plainBytes: 1000, isCompressed: false)
        let (orphan, orphanID, _) = builder.finish()
        try await repo.backend.write(ObjectName(.data, orphanID), bytes: orphan)

        let report = try await eager(repo).prune(host: "testhost", username: "tester")
        #expect(report.packsRepacked == 1)
        #expect(report.unindexedPacksDeleted == 1)
        let check = try await Checker(repository: repo).check(readData: true)
        #expect(check.isOK && check.warnings.isEmpty, "\(check.errors) \(check.warnings)")
        let target = scratch.path + "/restore"
        let restored = try await Restorer(repository: repo).restore(second.snapshot, options: RestoreOptions(target: target))
        #expect(restored.isComplete)
        #expect(FileManager.default.contents(atPath: target + source + "/keep.bin") == FileManager.default.contents(atPath: source + "/keep.bin"))
    }

    @Test("prune clears the half-written files of writers killed over an hour ago, and leaves fresh ones and every object alone")
    func staleTemporaries() async throws {
        let scratch = ScratchDirectory()
        let (repo, _, _, _) = try await twoSnapshots(scratch)
        let root = scratch.path + "/repo"
        let sub = try #require(try FileManager.default.contentsOfDirectory(atPath: root + "/data").first)
        let old = [root + "/data/\(sub)/.tmp-0123456789abcdef", root + "/locks/.tmp-fedcba9876543210", root + "/.tmp-00aa00aa00aa00aa"]
        let fresh = root + "/snapshots/.tmp-1111222233334444"
        try FileTree.mkdir(root + "/locks")
        for path in old + [fresh] { try FileTree.write(path, [1, 2, 3]) }
        let twoHoursAgo = Int(Date().timeIntervalSince1970) - 7200
        for path in old { try FileTree.setMtime(path, seconds: twoHoursAgo, nanoseconds: 0) }
        // Prune may merge index segments; packs, snapshots and keys have nothing to lose here.
        func objects() -> [String: Data] {
            TestRepository.allObjects(at: root).filter { entry in
                !entry.key.contains(".tmp-") && ["data/", "snapshots/", "keys/"].contains { entry.key.hasPrefix($0) }
            }
        }
        let objectsBefore = objects()

        let report = try await Pruner(repository: repo).prune(host: "h", username: "u")
        #expect(report.temporariesRemoved == 3)
        #expect(old.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        #expect(FileManager.default.fileExists(atPath: fresh), "a file that young may be a write in progress")
        #expect(objects() == objectsBefore)
    }

    @Test("a prune stopped at any write or delete loses nothing, and the next prune finishes the job")
    func crashAtEveryStep() async throws {
        var step = 1
        while true {
            let scratch = ScratchDirectory()
            let (repo, source, first, second) = try await twoSnapshots(scratch)
            try await repo.backend.delete(ObjectName(.snapshots, first.snapshotID))
            let faulty = FaultInjectingBackend(repo.backend, failAtMutation: step)
            let broken = try await Repository.open(backend: faulty, passphrase: TestRepository.passphrase)
            do {
                _ = try await eager(broken).prune(host: "testhost", username: "tester")
            } catch {
                // Interrupted at `step`: the repository must still be whole, as a new process sees it.
                let repo = try await TestRepository.open(at: scratch.path + "/repo")
                let check = try await Checker(repository: repo).check(readData: true)
                #expect(check.isOK, "after a failure at mutation \(step): \(check.errors)")
                let restored = try await Restorer(repository: repo).restore(second.snapshot, options: RestoreOptions(target: scratch.path + "/r\(step)"))
                #expect(restored.isComplete, "after a failure at mutation \(step)")
                #expect(DirectoryComparison.differences(source, scratch.path + "/r\(step)" + source, compareDirectoryTimes: false) == [])
                _ = try await eager(repo).prune(host: "testhost", username: "tester")
                let again = try await Checker(repository: repo).check(readData: true)
                #expect(again.isOK && again.warnings.isEmpty, "after the second prune: \(again.errors) \(again.warnings)")
                step += 1
                continue
            }
            #expect(step > 2, "prune should have had several steps to interrupt")
            break
        }
    }

    /// A pack no index names, as a killed or paused backup leaves; returns its id.
    func orphanPack(_ repo: Repository, seed: UInt64) async throws -> PackID {
        var rng = SeededBytes(seed: seed)
        let key = try await repo.createDataKey(now: Date())
        var builder = PackBuilder(dataKey: key, nominalTargetBytes: 1 << 20)
        _ = builder.append(sealedBlob: rng.bytes(1000), type: .data, id: BlobID(Digest256.random()), plainBytes: 1000, isCompressed: false)
        let (bytes, id, _) = builder.finish()
        try await repo.backend.write(ObjectName(.data, id), bytes: bytes)
        return id
    }

    func packFiles(_ root: String) -> Set<String> {
        Set(TestRepository.allObjects(at: root).keys.filter { $0.hasPrefix("data/") })
    }

    @Test("prune spares packs younger than its grace period (an hour), used or not, and removes them once they are older")
    func gracePeriod() async throws {
        let scratch = ScratchDirectory()
        let root = scratch.path + "/repo"
        let (repo, source, first, second) = try await twoSnapshots(scratch)
        try await repo.backend.delete(ObjectName(.snapshots, first.snapshotID))
        let orphan = try await orphanPack(repo, seed: 83)
        let before = packFiles(root)

        var pruner = Pruner(repository: repo)
        let young = try await pruner.prune(host: "testhost", username: "tester")
        #expect(young.packsDeleted == 0 && young.packsRepacked == 0 && young.unindexedPacksDeleted == 0, "\(young)")
        #expect(young.youngPacksSpared == before.count)
        #expect(packFiles(root) == before)
        // Structure only: the orphan's blob is random bytes, which reading it would call damaged.
        let check = try await Checker(repository: repo).check(readData: false)
        #expect(check.isOK, "\(check.errors)")

        // Two hours later the same packs are old: what no snapshot uses goes.
        pruner.now = { Date() + 2 * 3600 }
        let later = try await pruner.prune(host: "testhost", username: "tester")
        #expect(later.unindexedPacksDeleted == 1)
        #expect(later.packsDeleted + later.packsRepacked > 0, "\(later)")
        #expect(!packFiles(root).contains(ObjectName(.data, orphan).path))
        let after = try await Checker(repository: repo).check(readData: true)
        #expect(after.isOK && after.warnings.isEmpty, "\(after.errors) \(after.warnings)")
        let target = scratch.path + "/restore"
        let restored = try await Restorer(repository: repo).restore(second.snapshot, options: RestoreOptions(target: target))
        #expect(restored.isComplete)
        #expect(DirectoryComparison.differences(source, target + source, compareDirectoryTimes: false) == [])
    }

    @Test("a pack written after the lock of a backup paused past its expiry is spared, though the lock is removed as stale; one written before it is not")
    func pausedBackup() async throws {
        let scratch = ScratchDirectory()
        let root = scratch.path + "/repo"
        let repo = try await TestRepository.create(at: root)
        let now = Int(Date().timeIntervalSince1970)
        // The paused backup's lock: taken three hours ago on another host, expired 150 minutes ago.
        let paused = RepositoryLock(
            host: "otherhost", pid: 4242, username: "backup", exclusive: false, created: Date(timeIntervalSince1970: Double(now - 3 * 3600)),
            expires: Date(timeIntervalSince1970: Double(now - 3 * 3600 + 1800)))
        let pausedLock = ObjectName.labelled(.locks, "paused backup")
        try await repo.backend.write(pausedLock, bytes: Array(try JSONEncoder.lockEncoder.encode(paused)))
        let itsPack = try await orphanPack(repo, seed: 84)
        try FileTree.setMtime(root + "/" + ObjectName(.data, itsPack).path, seconds: now - 2 * 3600, nanoseconds: 0)
        let olderPack = try await orphanPack(repo, seed: 85)
        try FileTree.setMtime(root + "/" + ObjectName(.data, olderPack).path, seconds: now - 4 * 3600, nanoseconds: 0)

        let report = try await Pruner(repository: repo).prune(host: "testhost", username: "tester")
        #expect(report.unindexedPacksDeleted == 1)
        #expect(report.youngPacksSpared == 1)
        let left = packFiles(root)
        #expect(left.contains(ObjectName(.data, itsPack).path), "the paused backup's pack must survive")
        #expect(!left.contains(ObjectName(.data, olderPack).path))
        #expect(!(try await repo.backend.exists(pausedLock)), "the stale lock is removed")

        // With the lock gone, the next prune no longer spares it.
        let next = try await Pruner(repository: repo).prune(host: "testhost", username: "tester")
        #expect(next.unindexedPacksDeleted == 1)
        #expect(packFiles(root).isEmpty)
    }

    @Test("a backup that starts while a prune holds the exclusive lock fails clearly")
    func backupDuringPrune() async throws {
        let scratch = ScratchDirectory()
        let (repo, source, _, _) = try await twoSnapshots(scratch)
        let lock = RepositoryLock(host: "testhost", pid: getpid(), username: "pruner", exclusive: true, created: Date(), expires: Date() + 600)
        try await repo.backend.write(ObjectName.labelled(.locks, "prune-lock"), bytes: Array(try JSONEncoder.lockEncoder.encode(lock)))
        await #expect {
            try await TestRepository.backup(repo, [source])
        } throws: { error in
            if case RepositoryError.locked = error { return true }
            return false
        }
    }
}

extension JSONEncoder {
    static var lockEncoder: JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { d, enc in
            var c = enc.singleValueContainer()
            try c.encode(ISO8601.format(d))
        }
        return e
    }
}
