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

    /// A WAL object the source repository holds under a valid name.
    static let walName = try! ObjectName(.wal, "00000001/000000010000000000000001")  // a valid name by its format

    @Test("a source whose WAL folder is a link out of it is not followed: replicate and a full airgap export copy nothing of it and report it")
    func linkedSourceFolder() async throws {
        let scratch = ScratchDirectory()
        let (repo, _, _) = try await backedUp(scratch)
        let outside = try scratch.sub("outside")
        try FileTree.write(outside + "/000000010000000000000001", Array("not the repository's".utf8))
        try FileTree.mkdir(scratch.path + "/repo/wal")
        try FileTree.symlink(outside, at: scratch.path + "/repo/wal/00000001")

        let destination = try LocalDirectoryBackend(path: scratch.path + "/replica", create: true)
        let report = try await Replicator(source: repo.backend, destination: destination).replicate()
        #expect(report.rejected.map(\.key) == ["wal/00000001"], "\(report.rejected)")
        #expect(report.rejected.first?.reason.contains("symbolic link") == true)
        #expect(try await destination.list(.wal).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/replica/wal/00000001/000000010000000000000001"))

        let bundle = try LocalDirectoryBackend(path: scratch.path + "/bundle", create: true)
        let exported = try await AirgapBundle(repository: repo).export(to: bundle, snapshots: nil, label: "Q4")
        #expect(exported.rejected.map(\.key) == ["wal/00000001"])
        #expect(try await bundle.list(.wal).isEmpty)
        #expect(try await AirgapBundle.verifyWithoutKey(bundle).isOK)
        // And check names it.
        let check = try await Checker(repository: repo).check(readData: false)
        #expect(check.errors.contains { $0.contains("'wal/00000001'") && $0.contains("symbolic link") }, "\(check.errors)")
    }

    @Test("a destination whose folder is a link out of it is refused: nothing is written through it")
    func linkedDestinationFolder() async throws {
        let scratch = ScratchDirectory()
        let (repo, _, _) = try await backedUp(scratch)
        try await repo.backend.write(Self.walName, bytes: [1, 2, 3])
        let elsewhere = try scratch.sub("elsewhere")
        try FileTree.mkdir(scratch.path + "/medium")
        try FileTree.symlink(elsewhere, at: scratch.path + "/medium/wal")
        let medium = try RemovableMediaBackend(path: scratch.path + "/medium")
        await #expect {
            try await Replicator(source: repo.backend, destination: medium).replicate()
        } throws: { error in
            if case StorageError.notOwnFile(let path, _, _) = error { return path == "wal" }
            return false
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty, "nothing may be made through the link")
    }

    @Test(
        "an S3 source listing 'wal/00000001/../../../../x' has it refused by replicate and a full airgap export, and nothing lands outside the destination",
        .enabled(if: S3TestServer.isAvailable, "scripts/test starts moto_server"))
    func hostileS3Listing() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        try FileTree.write(source + "/a.txt", Array("hello".utf8))
        let s3 = try await S3TestServer.backend(endpoint: S3TestServer.endpoint!)
        let repo = try await Repository.initialize(
            backend: s3, passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u")
        _ = try await TestRepository.backup(repo, [source])
        try await s3.write(Self.walName, bytes: [1, 2, 3])
        let hostile = "wal/00000001/../../../../x"
        let put = try await s3.send(.PUT, key: s3.configuration.prefix + "/" + hostile, headers: [("content-length", "7")], body: Array("planted".utf8), what: "plant")
        #expect(put.status == .ok)
        // The key is stored as it was sent, and listed back so: the attack is real.
        #expect(try await s3.listing(.wal).rejected.map(\.key) == [hostile])

        let nest = try scratch.sub("a/b")
        let destination = try LocalDirectoryBackend(path: nest + "/replica", create: true)
        let report = try await Replicator(source: s3, destination: destination).replicate()
        #expect(report.rejected.map(\.key) == [hostile])
        #expect(try await destination.list(.wal).map(\.name) == [Self.walName])
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/a/x"), "written outside the destination")

        let bundle = try LocalDirectoryBackend(path: nest + "/bundle", create: true)
        let exported = try await AirgapBundle(repository: repo).export(to: bundle, snapshots: nil, label: "Q4")
        #expect(exported.rejected.map(\.key) == [hostile])
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/a/x"), "written outside the bundle")
        #expect(try await AirgapBundle.verifyWithoutKey(bundle).isOK)
    }
}
