import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import Testing

/// Each stage of `lifeboat run`, and what the BackupLog says when it fails.
@Suite("Backup pipeline")
struct BackupPipelineTests {
    let scratch = ScratchDirectory("pipeline")

    func catalog() async throws -> Catalog { try await Catalog.open(.sqlite(path: scratch.path + "/catalog.sqlite")) }

    @Test("a source that is missing fails the pre-check: FAILED_PRECHECK, and nothing is written")
    func missingSource() async throws {
        let f = try await PipelineFixture(scratch)
        let catalog = try await catalog()
        defer { Task { await catalog.close() } }
        let before = TestRepository.allObjects(at: scratch.path + "/primary")
        let row = try await f.run(f.pipeline([f.medium()]), f.request(.files(paths: [f.app, scratch.path + "/gone"], excludes: [])), catalog: catalog)
        #expect(row.status == .failedPreCheck)
        #expect(row.stage == "PRE_CHECK")
        #expect(row.preCheck?.passed == false)
        #expect(row.preCheck?.details.contains("gone") == true)
        #expect(row.snapshotId == nil && row.locations.isEmpty && row.finishedAt != nil)
        #expect(TestRepository.allObjects(at: scratch.path + "/primary") == before)
        #expect(!FileManager.default.fileExists(atPath: f.mediumPath))
    }

    @Test("a damaged SQLite database fails the pre-check before anything is written")
    func damagedDatabase() async throws {
        let f = try await PipelineFixture(scratch)
        let catalog = try await catalog()
        defer { Task { await catalog.close() } }
        let db = scratch.path + "/app.db"
        let made = try Shell.run("/usr/bin/python3", [
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)'); c.execute('CREATE INDEX tb ON t(b)'); c.executemany('INSERT INTO t (b) VALUES (?)', [('row %d %s' % (i, 'x' * 50),) for i in range(2000)]); c.commit()",
            db,
        ])
        #expect(made.status == 0, "\(made.stderr)")
        // Overwrite the middle of the file: pages of the table and the index no longer agree.
        var bytes = try #require(FileManager.default.contents(atPath: db))
        let pageSize = 4096
        let page = bytes.count / pageSize / 2
        for i in (page * pageSize + 100)..<(page * pageSize + 4000) { bytes[i] = 0x5A }
        try bytes.write(to: URL(fileURLWithPath: db))
        let before = TestRepository.allObjects(at: scratch.path + "/primary")
        let row = try await f.run(f.pipeline([]), f.request(.sqlite(path: db)), catalog: catalog)
        #expect(row.status == .failedPreCheck, "\(row.error ?? "")")
        #expect(row.preCheck?.passed == false)
        #expect(TestRepository.allObjects(at: scratch.path + "/primary") == before)
    }

    @Test("damage found by the post-backup read-back: FAILED_VERIFICATION, and no snapshot")
    func readBackDamage() async throws {
        let f = try await PipelineFixture(scratch)
        let catalog = try await catalog()
        defer { Task { await catalog.close() } }
        _ = try await TestRepository.create(at: scratch.path + "/bad")
        let bad = try await Repository.open(
            backend: CorruptingPackBackend(try LocalDirectoryBackend(path: scratch.path + "/bad")), passphrase: TestRepository.passphrase)
        let pipeline = BackupPipeline(primary: bad, primaryName: "primary", locations: [f.medium()], passphrase: TestRepository.passphrase)
        let row = try await f.run(pipeline, f.request(), catalog: catalog)
        #expect(row.status == .failedVerification)
        #expect(row.postCheck?.passed == false)
        #expect(row.error?.contains("read-back") == true)
        #expect(row.snapshotId == nil)
        #expect(try await bad.snapshots().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: f.mediumPath), "nothing is replicated from a failed backup")
    }

    @Test("a location that is down leaves its copy PENDING without failing PRIMARY; the next run copies both and settles the earlier row")
    func locationDown() async throws {
        let f = try await PipelineFixture(scratch)
        let catalog = try await catalog()
        defer { Task { await catalog.close() } }
        try FileManager.default.removeItem(atPath: scratch.path + "/media")  // the medium is not mounted
        let first = try await f.run(f.pipeline([f.medium()]), f.request(), catalog: catalog)
        #expect(first.status == .succeeded)
        let pending = try #require(first.locations.first { $0.location == "usb" })
        #expect(pending.status == .pending && pending.verifiedAt == nil)
        #expect(pending.error?.contains("usb-1") == true)
        #expect(first.locations.first { $0.location == "primary" }?.status == .verified)

        _ = try scratch.sub("media")  // mounted again
        try FileTree.write(f.app + "/config/extra.yaml", Array("x: 1\n".utf8))
        let second = try await f.run(f.pipeline([f.medium()]), f.request(), catalog: catalog)
        #expect(second.locations.first { $0.location == "usb" }?.status == .verified)
        let settled = try #require(try await catalog.backup(id: first.id))
        #expect(settled.locations.first { $0.location == "usb" }?.status == .verified)
        #expect(settled.locations.first { $0.location == "usb" }?.error == nil)
        let medium = try await Repository.open(backend: try RemovableMediaBackend(path: f.mediumPath), passphrase: TestRepository.passphrase)
        #expect(Set(try await medium.snapshots().map(\.id.hex)) == Set([first.snapshotId, second.snapshotId].compactMap { $0 }))
    }

    @Test("retention per location: PRIMARY keeps the newest snapshot and the forgotten copy is marked FORGOTTEN; the medium keeps its own")
    func retention() async throws {
        let f = try await PipelineFixture(scratch)
        let catalog = try await catalog()
        defer { Task { await catalog.close() } }
        let keepOne = RetentionPolicy(last: 1)
        let pipeline = f.pipeline([f.medium()], primaryRetention: keepOne)
        let first = try await f.run(pipeline, f.request(), catalog: catalog)
        try FileTree.write(f.app + "/config/extra.yaml", Array("x: 1\n".utf8))
        let second = try await f.run(pipeline, f.request(), catalog: catalog)
        #expect(second.stage == "FINISHED" && second.status == .succeeded)
        #expect(try await f.primary.snapshots().map(\.id.hex) == [second.snapshotId])
        let old = try #require(try await catalog.backup(id: first.id))
        #expect(old.locations.map { "\($0.location) \($0.status.rawValue)" } == ["primary FORGOTTEN", "usb VERIFIED"])
        let medium = try await Repository.open(backend: try RemovableMediaBackend(path: f.mediumPath), passphrase: TestRepository.passphrase)
        #expect(try await medium.snapshots().count == 2)
    }

    @Test("a crash between stages leaves the row at the last finished stage; a restart marks it INTERRUPTED and the next run completes its copy")
    func crashBetweenStages() async throws {
        let f = try await PipelineFixture(scratch)
        let catalog = try await catalog()
        defer { Task { await catalog.close() } }
        let crashed = try await f.run(f.pipeline([f.medium()]), f.request(), catalog: catalog, stopAfter: .backup)
        #expect(crashed.status == .running && crashed.stage == "BACKUP")
        #expect(crashed.snapshotId != nil)
        #expect(crashed.locations.first { $0.location == "usb" }?.status == .pending)
        #expect(!FileManager.default.fileExists(atPath: f.mediumPath))

        // The lease the crashed run stopped renewing runs out.
        #expect(try await catalog.markInterrupted(host: "testhost", at: Date().addingTimeInterval(Catalog.defaultLease.seconds * 2)) == 1)
        let interrupted = try #require(try await catalog.backup(id: crashed.id))
        #expect(interrupted.status == .interrupted)
        #expect(interrupted.error?.contains("after stage BACKUP") == true)

        let next = try await f.run(f.pipeline([f.medium()]), f.request(), catalog: catalog)
        #expect(next.status == .succeeded)
        #expect(try await catalog.backup(id: crashed.id)?.locations.first { $0.location == "usb" }?.status == .verified)
    }

    @Test("an AIR_GAPPED location is not written by a run")
    func airGapped() async throws {
        let f = try await PipelineFixture(scratch)
        let catalog = try await catalog()
        defer { Task { await catalog.close() } }
        let offline = scratch.path + "/offline"
        let vault = BackupPipeline.Location(name: "vault", role: .airGapped, replicates: false) {
            try LocalDirectoryBackend(path: offline, create: true)
        }
        let row = try await f.run(f.pipeline([vault]), f.request(), catalog: catalog)
        #expect(row.status == .succeeded)
        #expect(row.locations.map(\.location) == ["primary"])
        #expect(!FileManager.default.fileExists(atPath: offline))
    }
}
