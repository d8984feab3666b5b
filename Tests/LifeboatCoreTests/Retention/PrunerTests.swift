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

    @Test("prune writes the new index in bounded segments, going through the old ones twice: what it keeps is what it decided, and every snapshot restores")
    func boundedSegments() async throws {
        let scratch = ScratchDirectory()
        let (repo, source, first, _) = try await twoSnapshots(scratch)
        // More runs, more packs: each run writes its own.
        var rng = SeededBytes(seed: 82)
        for n in 0..<3 {
            try FileTree.write(source + "/run-\(n).bin", rng.bytes(200_000))
            _ = try await TestRepository.backup(repo, [source])
        }
        try await repo.backend.delete(ObjectName(.snapshots, first.snapshotID.hex))
        var pruner = eager(repo)
        pruner.indexSegmentBlobs = 1  // every pack in a segment of its own
        let report = try await pruner.prune(host: "testhost", username: "tester")
        #expect(report.blobsRemoved >= 1 && report.packsDeleted + report.packsRepacked >= 1)
        let segments = try await repo.backend.list(.index)
        var indexedPacks = 0
        for info in segments {
            let segment = try IndexSegment.decode(try await repo.loadSealed(info.name), what: info.name.path)
            #expect(segment.packs.count == 1, "a segment of \(segment.packs.count) packs")
            indexedPacks += segment.packs.count
        }
        #expect(indexedPacks == (try await repo.backend.list(.data)).count)
        #expect(segments.count == report.packsKept + report.packsWritten)
        let check = try await Checker(repository: repo).check(readData: true)
        #expect(check.isOK && check.warnings.isEmpty, "\(check.errors) \(check.warnings)")
        let target = scratch.path + "/restore"
        let latest = try #require(try await repo.snapshots().max { $0.snapshot.time < $1.snapshot.time })
        let restored = try await Restorer(repository: repo).restore(latest.snapshot, options: RestoreOptions(target: target))
        #expect(restored.isComplete)
        #expect(DirectoryComparison.differences(source, target + source, compareDirectoryTimes: false) == [])
    }

    @Test(
        "--max-unused limits parse as restic's: a percentage, a size with a 1024-based unit, unlimited",
        arguments: [
            ("5%", Pruner.UnusedLimit.percent(5)), ("2.5%", .percent(2.5)), ("0%", .percent(0)), ("100%", .percent(100)),
            ("unlimited", .unlimited), ("0", .bytes(0)), ("1048576", .bytes(1 << 20)), ("500M", .bytes(500 << 20)), ("2g", .bytes(2 << 30)),
            ("1KiB", .bytes(1024)), ("3tb", .bytes(3 << 40)),
        ])
    func unusedLimitParses(text: String, limit: Pruner.UnusedLimit) {
        #expect(Pruner.UnusedLimit(parsing: text) == limit)
    }

    @Test("--max-unused refuses what is no limit", arguments: ["", "%", "-1%", "101%", "five", "5x", "-3M", "99999999999T", "1.5M"])
    func unusedLimitRefuses(text: String) {
        #expect(Pruner.UnusedLimit(parsing: text) == nil)
    }

    @Test("a percentage limit is a share of what is stored after the prune: 5% of used + unused")
    func percentOfTotal() {
        #expect(Pruner.UnusedLimit.percent(5).maxUnusedBytes(used: 95_000) == 5_000)
        #expect(Pruner.UnusedLimit.percent(50).maxUnusedBytes(used: 1_000) == 1_000)
        #expect(Pruner.UnusedLimit.percent(0).maxUnusedBytes(used: 1_000) == 0)
        #expect(Pruner.UnusedLimit.percent(100).maxUnusedBytes(used: 1) == .max)
    }

    @Test("prune repacks only as many partly used packs as keep the unused bytes within maxUnused, the most unused first")
    func maxUnused() async throws {
        let scratch = ScratchDirectory()
        var rng = SeededBytes(seed: 83)
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        // Two packs: after the forget, one is ~90% unused (3 MiB of 3.3), the other ~50% (1 MiB of 2).
        let mostly = try scratch.sub("mostly")
        try FileTree.write(mostly + "/keep.bin", rng.bytes(300_000))
        try FileTree.write(mostly + "/drop.bin", rng.bytes(3 << 20))
        let half = try scratch.sub("half")
        try FileTree.write(half + "/keep.bin", rng.bytes(1 << 20))
        try FileTree.write(half + "/drop.bin", rng.bytes(1 << 20))
        var firsts: [SnapshotID] = []
        for source in [mostly, half] { firsts.append(try await TestRepository.backup(repo, [source]).snapshotID) }
        var seconds: [Snapshot] = []
        for source in [mostly, half] {
            try FileManager.default.removeItem(atPath: source + "/drop.bin")
            seconds.append(try await TestRepository.backup(repo, [source]).snapshot)
        }
        for id in firsts { try await repo.backend.delete(ObjectName(.snapshots, id)) }

        func plan(_ limit: Pruner.UnusedLimit) async throws -> Pruner.Report {
            var pruner = eager(repo)
            pruner.maxUnused = limit
            return try await pruner.prune(dryRun: true, host: "testhost", username: "tester")
        }
        let unlimited = try await plan(.unlimited)
        #expect(unlimited.packsRepacked == 0)
        #expect(unlimited.unusedBytesKept > 4 << 20 - (1 << 18), "\(unlimited)")
        #expect(try await plan(.percent(0)).packsRepacked == 2)
        #expect(try await plan(.default).packsRepacked == 2, "5% of ~1.6 MiB used is less than the half-used pack's 1 MiB")
        let oneOfTwo = try await plan(.bytes(2 << 20))
        #expect(oneOfTwo.packsRepacked == 1, "\(oneOfTwo)")
        #expect(oneOfTwo.unusedBytesKept > 1 << 20 - (1 << 18) && oneOfTwo.unusedBytesKept < 2 << 20, "the half-used pack is the one kept: \(oneOfTwo)")

        var pruner = eager(repo)
        pruner.maxUnused = .bytes(2 << 20)
        let done = try await pruner.prune(host: "testhost", username: "tester")
        #expect(done.packsRepacked == 1)
        let check = try await Checker(repository: repo).check(readData: true)
        #expect(check.isOK && check.warnings.isEmpty, "\(check.errors) \(check.warnings)")
        for (i, snapshot) in seconds.enumerated() {
            let target = scratch.path + "/restore\(i)"
            #expect(try await Restorer(repository: repo).restore(snapshot, options: RestoreOptions(target: target)).isComplete)
        }
        #expect(FileManager.default.contents(atPath: scratch.path + "/restore1" + half + "/keep.bin") == FileManager.default.contents(atPath: half + "/keep.bin"))
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
