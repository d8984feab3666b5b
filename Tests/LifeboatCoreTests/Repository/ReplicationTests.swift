import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("Replication, removable media and air-gapped bundles")
struct ReplicationTests {
    func backedUp(_ scratch: ScratchDirectory) async throws -> (Repository, String, [BackupResult]) {
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 111)
        try FileTree.write(source + "/one.bin", rng.bytes(2 << 20))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let first = try await TestRepository.backup(repo, [source])
        try FileTree.write(source + "/two.bin", rng.bytes(3 << 20))
        let second = try await TestRepository.backup(repo, [source])
        return (repo, source, [first, second])
    }

    func restoresAlone(_ path: String, _ snapshot: Snapshot, _ source: String, _ scratch: ScratchDirectory, label: String) async throws {
        let copy = try await TestRepository.open(at: path)
        let check = try await Checker(repository: copy).check(readData: true)
        #expect(check.isOK && check.warnings.isEmpty, "\(label): \(check.errors) \(check.warnings)")
        let target = scratch.path + "/restore-\(label)"
        #expect(try await Restorer(repository: copy).restore(snapshot, options: RestoreOptions(target: target)).isComplete)
        #expect(DirectoryComparison.differences(source, target + source, compareDirectoryTimes: false) == [])
    }

    @Test("a replica is a complete repository: it checks clean and restores on its own")
    func replicate() async throws {
        let scratch = ScratchDirectory()
        let (repo, source, results) = try await backedUp(scratch)
        let destination = try LocalDirectoryBackend(path: scratch.path + "/replica", create: true)
        let report = try await Replicator(source: repo.backend, destination: destination).replicate()
        #expect(report.objectsCopied > 5)
        try await restoresAlone(scratch.path + "/replica", results[1].snapshot, source, scratch, label: "replica")
        let again = try await Replicator(source: repo.backend, destination: destination).replicate()
        #expect(again.objectsCopied == 0)
    }

    @Test("an interrupted replication resumes without sending again what arrived")
    func resume() async throws {
        let scratch = ScratchDirectory()
        let (repo, source, results) = try await backedUp(scratch)
        let local = try LocalDirectoryBackend(path: scratch.path + "/replica", create: true)
        let faulty = FaultInjectingBackend(local, failAtMutation: 6)
        var replicator = Replicator(source: repo.backend, destination: faulty)
        replicator.width = 1
        await #expect(throws: StorageError.self) { try await replicator.replicate() }
        #expect(!(try await local.exists(.config)), "an interrupted replica is not yet a repository")
        let resumed = try await Replicator(source: repo.backend, destination: local).replicate()
        #expect(resumed.objectsPresent == 5)
        try await restoresAlone(scratch.path + "/replica", results[1].snapshot, source, scratch, label: "resumed")
    }

    @Test("a location holding another repository is refused, and a damaged source object is never copied")
    func refusals() async throws {
        let scratch = ScratchDirectory()
        let (repo, _, _) = try await backedUp(scratch)
        let other = try await TestRepository.create(at: scratch.path + "/other")
        await #expect(throws: ReplicationError.self) { try await Replicator(source: repo.backend, destination: other.backend).replicate() }
        let pack = try #require(TestRepository.allObjects(at: scratch.path + "/repo").keys.first { $0.hasPrefix("data/") })
        var bytes = Array(FileManager.default.contents(atPath: scratch.path + "/repo/" + pack)!)
        bytes[10] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: scratch.path + "/repo/" + pack))
        let destination = try LocalDirectoryBackend(path: scratch.path + "/replica", create: true)
        await #expect(throws: ReplicationError.self) { try await Replicator(source: repo.backend, destination: destination).replicate() }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/replica/" + pack))
    }

    @Test("a removable medium is write-once and its manifest finds damage, loss and strays")
    func removableMedium() async throws {
        let scratch = ScratchDirectory()
        let (repo, _, _) = try await backedUp(scratch)
        let medium = try RemovableMediaBackend(path: scratch.path + "/usb", create: true)
        _ = try await Replicator(source: repo.backend, destination: medium).replicate()
        var manifest = MediumManifest(label: "offsite-1", repository: repo.config.id, created: Date())
        try await manifest.record(medium)
        try await manifest.save(to: medium)
        #expect(try await manifest.verify(medium).isOK)
        let someObject = try #require(try await medium.list(.snapshots).first).name
        await #expect(throws: StorageError.self) { try await medium.delete(someObject) }
        await #expect(throws: StorageError.self) { try await medium.write(someObject, bytes: [1], overwrite: true) }

        let loaded = try #require(try await MediumManifest.load(from: medium))
        let pack = try #require(try await medium.list(.data).first).name
        var bytes = try await medium.read(pack)
        bytes[0] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: scratch.path + "/usb/" + pack.path))
        try FileTree.write(scratch.path + "/usb/snapshots/stray", [1])
        try FileManager.default.removeItem(atPath: scratch.path + "/usb/" + someObject.path)
        let report = try await loaded.verify(medium)
        #expect(report.errors.contains { $0.contains(pack.name) && $0.contains("damaged") })
        #expect(report.errors.contains { $0.contains("stray") })
        #expect(report.errors.contains { $0.contains(someObject.name) && $0.contains("missing") })
    }

    @Test("an air-gapped bundle of one snapshot carries only its packs, verifies with and without the key, and imports back")
    func airgap() async throws {
        let scratch = ScratchDirectory()
        let (repo, source, results) = try await backedUp(scratch)
        let bundle = try LocalDirectoryBackend(path: scratch.path + "/bundle", create: true)
        let report = try await AirgapBundle(repository: repo).export(to: bundle, snapshots: [results[0].snapshotID], label: "Q4")
        #expect(report.snapshots == [results[0].snapshotID])
        #expect(try await bundle.list(.data).count < repo.backend.list(.data).count)
        #expect(try await bundle.list(.snapshots).map(\.name.name) == [results[0].snapshotID.hex])
        #expect(try await AirgapBundle.verifyWithoutKey(bundle).isOK)

        // The first snapshot (without two.bin) restores from the bundle alone.
        try FileManager.default.removeItem(atPath: source + "/two.bin")
        try await restoresAlone(scratch.path + "/bundle", results[0].snapshot, source, scratch, label: "bundle")

        let imported = try LocalDirectoryBackend(path: scratch.path + "/imported", create: true)
        _ = try await Replicator(source: bundle, destination: imported).replicate()
        try await restoresAlone(scratch.path + "/imported", results[0].snapshot, source, scratch, label: "imported")

        let pack = try #require(try await bundle.list(.data).first).name
        var bytes = try await bundle.read(pack)
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: scratch.path + "/bundle/" + pack.path))
        #expect(try await AirgapBundle.verifyWithoutKey(bundle).errors.contains { $0.contains(pack.name) })
    }
}
