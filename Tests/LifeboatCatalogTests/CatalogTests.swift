import Foundation
@testable import LifeboatCatalog
import SQLKit
import LifeboatCore
import LifeboatTestSupport
import Testing

/// The catalog suite: each test runs on a SQLite file and on a scratch PostgreSQL server.
@Suite("Catalog")
struct CatalogTests {
    // The tests below leave their PostgreSQL case out where the server programs are
    // missing (an argument cannot be skipped on its own): this test makes that visible,
    // reported as skipped with the reason, and a failure in CI.
    @Test("every catalog test runs on PostgreSQL too", .enabled(if: ScratchPostgres.isAvailable, "no PostgreSQL server programs: the catalog tests' PostgreSQL cases are left out"))
    func postgresCasesRun() {
        #expect(CatalogKind.available == CatalogKind.allCases)
    }

    @Test("migrations are versioned: the first open applies them, later opens apply nothing and keep the rows", arguments: CatalogKind.available)
    func migrations(_ kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let first = try await fixture.open()
        #expect(try await first.appliedMigrations() == ["lifeboat-v1-backup-log", "lifeboat-v2-location-checks", "lifeboat-v3-run-leases", "lifeboat-v4-location-prunes", "lifeboat-v5-recovery", "lifeboat-v6-alerts", "lifeboat-v7-access"])
        let id = try await first.begin(
            Catalog.NewBackup(type: "FULL", scheduleType: .scheduled, source: "db", sourceKind: .sqlite, requestedBy: "ops", host: "h", pid: 1))
        await first.close()

        let again = try await fixture.open()
        #expect(try await again.appliedMigrations() == ["lifeboat-v1-backup-log", "lifeboat-v2-location-checks", "lifeboat-v3-run-leases", "lifeboat-v4-location-prunes", "lifeboat-v5-recovery", "lifeboat-v6-alerts", "lifeboat-v7-access"])
        let rows = try await again.backups()
        #expect(rows.map(\.id) == [id])
        #expect(rows.first?.status == .running && rows.first?.scheduleType == "SCHEDULED" && rows.first?.requestedBy == "ops")
        await again.close()
    }

    @Test("a pipeline run is recorded stage by stage: checks, snapshot, data key, checksum, and a verified copy per location", arguments: CatalogKind.available)
    func pipelineRun(_ kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        let f = try await PipelineFixture(fixture.scratch)
        let row = try await f.run(f.pipeline([f.medium()]), f.request(type: .full), catalog: catalog)
        #expect(row.status == .succeeded)
        #expect(row.stage == "FINISHED")
        #expect(row.type == "FULL" && row.source == "app" && row.sourceKind == .files)
        #expect(row.preCheck?.passed == true)
        #expect(row.postCheck?.passed == true && row.postCheck?.details.contains("read back") == true)
        let snapshot = try await f.primary.findSnapshot(try #require(row.snapshotId))
        #expect(snapshot.snapshot.dataKey.hex == row.dataKeyId)
        #expect(snapshot.snapshot.tree.hex == row.checksum)
        #expect(snapshot.snapshot.tags.contains("source:app"))
        #expect((row.bytesRead ?? 0) > 300_000 && row.files == 2)
        #expect(row.finishedAt != nil && row.restoreTest.tested == false)
        #expect(row.locations.map { "\($0.location) \($0.role.rawValue) \($0.status.rawValue)" } == ["primary PRIMARY VERIFIED", "usb TERTIARY VERIFIED"])
        #expect(row.locations.allSatisfy { $0.verifiedAt != nil })
        // The copy really is on the medium, with its manifest.
        let medium = try await Repository.open(backend: try RemovableMediaBackend(path: f.mediumPath), passphrase: TestRepository.passphrase)
        #expect(try await medium.snapshots().map(\.id.hex) == [row.snapshotId])
        #expect(try await MediumManifest.load(from: try RemovableMediaBackend(path: f.mediumPath))?.label == "usb-1")

        // A second run of the same data key? No: every backup has its own.
        let second = try await f.run(f.pipeline([f.medium()]), f.request(), catalog: catalog)
        #expect(second.type == "INCREMENTAL")
        #expect(second.dataKeyId != row.dataKeyId)
    }

    @Test("log filters: by source, status, start time and count, newest first", arguments: CatalogKind.available)
    func filters(_ kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        let now = Date()
        var ids: [UUID] = []
        for (i, (source, hoursAgo)) in [("db", 50.0), ("db", 20.0), ("files", 10.0), ("db", 1.0)].enumerated() {
            var new = Catalog.NewBackup(type: "FULL", scheduleType: .scheduled, source: source, sourceKind: .files, requestedBy: "u", host: "h", pid: 1)
            new.startedAt = now.addingTimeInterval(-hoursAgo * 3600)
            ids.append(try await catalog.begin(new))
            if i == 1 { try await catalog.markInterrupted(host: "h", at: Date().addingTimeInterval(3600)) }
        }
        #expect(try await catalog.backups().map(\.id) == ids.reversed())
        #expect(try await catalog.backups(BackupFilter(source: "db")).map(\.id) == [ids[3], ids[1], ids[0]])
        #expect(try await catalog.backups(BackupFilter(status: .interrupted)).map(\.id) == [ids[1], ids[0]])
        #expect(try await catalog.backups(BackupFilter(since: now.addingTimeInterval(-15 * 3600))).map(\.id) == [ids[3], ids[2]])
        #expect(try await catalog.backups(BackupFilter(source: "db", limit: 1)).map(\.id) == [ids[3]])
    }

    @Test("rows left RUNNING by a process that is gone become INTERRUPTED; a live run and another host's are left alone", arguments: CatalogKind.available)
    func interrupted(_ kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        let dead = try deadProcessID()
        func begin(host: String, pid: Int) async throws -> UUID {
            try await catalog.begin(Catalog.NewBackup(type: "FULL", scheduleType: .manual, source: "s", sourceKind: .files, requestedBy: "u", host: host, pid: pid))
        }
        let orphan = try await begin(host: "here", pid: dead)
        let alive = try await begin(host: "here", pid: Int(getpid()))
        let elsewhere = try await begin(host: "there", pid: dead)
        #expect(try await catalog.markInterrupted(host: "here") == 1)
        let rows = Dictionary(uniqueKeysWithValues: try await catalog.backups().map { ($0.id, $0) })
        #expect(rows[orphan]?.status == .interrupted)
        #expect(rows[orphan]?.error?.contains("pid \(dead)") == true)
        #expect(rows[orphan]?.finishedAt != nil)
        #expect(rows[alive]?.status == .running)
        #expect(rows[elsewhere]?.status == .running)
        #expect(try await catalog.markInterrupted(host: "here") == 0)
    }

    @Test("a restoration test is recorded in the rows of the snapshot it tested", arguments: CatalogKind.available)
    func restoreTest(_ kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        let f = try await PipelineFixture(fixture.scratch)
        let row = try await f.run(f.pipeline([]), f.request(), catalog: catalog)
        let other = try await f.run(f.pipeline([]), f.request(), catalog: catalog)
        let recorded = try await catalog.recordRestoreTest(
            snapshotId: try #require(row.snapshotId), passed: false, durationSeconds: 2.5, details: "3 files differ", location: "usb")
        #expect(recorded == 1)
        let tested = try #require(try await catalog.backup(id: row.id)).restoreTest
        #expect(tested.tested && tested.result == "FAILED" && tested.durationSeconds == 2.5 && tested.details == "3 files differ" && tested.location == "usb")
        #expect(tested.testedAt != nil)
        #expect(try await catalog.backup(id: other.id)?.restoreTest.tested == false)
        #expect(try await catalog.recordRestoreTest(snapshotId: String(repeating: "0", count: 64), passed: true, durationSeconds: 1, details: "", location: nil) == 0)
    }

    @Test("catalog rebuild recreates the rows of every snapshot in a location, once", arguments: CatalogKind.available)
    func rebuild(_ kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let f = try await PipelineFixture(fixture.scratch)
        // Two runs recorded in a catalog that is then lost.
        let lost = try await Catalog.open(.sqlite(path: fixture.scratch.path + "/lost.sqlite"))
        let a = try await f.run(f.pipeline([f.medium()]), f.request(type: .full), catalog: lost)
        let b = try await f.run(f.pipeline([f.medium()]), f.request(), catalog: lost)
        await lost.close()

        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        let medium = try await Repository.open(backend: try RemovableMediaBackend(path: f.mediumPath), passphrase: TestRepository.passphrase)
        let report = try await CatalogRebuilder(catalog: catalog).rebuild(from: medium, location: "usb", role: .tertiary)
        #expect(report.snapshots == 2 && report.added == 2 && report.alreadyRecorded == 0 && report.damaged.isEmpty)
        let rows = try await catalog.backups()
        #expect(Set(rows.compactMap(\.snapshotId)) == Set([a.snapshotId, b.snapshotId].compactMap { $0 }))
        for row in rows {
            let original = try #require([a, b].first { $0.snapshotId == row.snapshotId })
            #expect(row.status == .succeeded && row.source == "app" && row.type == original.type)
            #expect(row.dataKeyId == original.dataKeyId && row.checksum == original.checksum && row.bytesAdded == original.bytesAdded)
            #expect(row.postCheck?.passed == true)
            #expect(row.locations.map { "\($0.location) \($0.status.rawValue)" } == ["usb PRESENT"])
        }
        let again = try await CatalogRebuilder(catalog: catalog).rebuild(from: medium, location: "usb", role: .tertiary)
        #expect(again.added == 0 && again.alreadyRecorded == 2)
        #expect(try await catalog.backups().count == 2)
    }

    @Test("a catalog of an older version is upgraded in place: only the missing migration runs, and its rows stay", arguments: CatalogKind.available)
    func upgrade(_ kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let old = try await Catalog.open(fixture.location, migrations: [CreateBackupLogV1()])
        #expect(try await old.appliedMigrations() == ["lifeboat-v1-backup-log"])
        // The row as version 1 wrote it: none of the later columns.
        let id = UUID()
        let sql = try #require(old.database as? any SQLDatabase)
        try await sql.raw(
            """
            INSERT INTO backup_logs (id, type, source, source_kind, status, started_at, requested_by, host, pid, restore_tested)
            VALUES (\(bind: id), 'FULL', 'db', 'sqlite', 'RUNNING', \(bind: Date()), 'u', 'h', 1, \(bind: false))
            """
        ).run()
        await old.close()

        let current = try await fixture.open()
        defer { Task { await current.close() } }
        #expect(try await current.appliedMigrations() == ["lifeboat-v1-backup-log", "lifeboat-v2-location-checks", "lifeboat-v3-run-leases", "lifeboat-v4-location-prunes", "lifeboat-v5-recovery", "lifeboat-v6-alerts", "lifeboat-v7-access"])
        #expect(try await current.backups().map(\.id) == [id])
        let earlier = Date().addingTimeInterval(-3600)
        try await current.recordLocationCheck(location: "usb", errors: 2, details: "pack x damaged", at: earlier)
        try await current.recordLocationCheck(location: "usb", errors: 0, details: nil)
        try await current.recordLocationCheck(location: "cloud", errors: 1, details: "unreachable", at: earlier)
        let last = try await current.lastLocationChecks()
        #expect(last["usb"]?.errors == 0 && last["usb"].map { $0.checkedAt > earlier } == true)
        #expect(last["cloud"]?.errors == 1 && last["cloud"]?.details == "unreachable")
        // Version 4: prunes per location; the newest that ran is each location's last, and rows carry it.
        try await current.recordPrune(LocationPrune(location: "cloud", prunedAt: earlier, packsDeleted: 3, bytesFreed: 1000, error: nil))
        try await current.recordPrune(LocationPrune(location: "cloud", prunedAt: Date(), packsDeleted: 0, bytesFreed: 0, error: "unreachable"))
        let prunes = try await current.lastPrunes()
        #expect(prunes.keys.sorted() == ["cloud"] && prunes["cloud"]?.packsDeleted == 3, "a failed prune is not the last one: \(prunes)")
    }

    @Test("runs that open a new catalog at the same moment all get it, with every migration applied once", arguments: CatalogKind.available)
    func concurrentFirstOpen(_ kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let ids = try await withThrowingTaskGroup(of: UUID.self) { group in
            for i in 0..<6 {
                group.addTask {
                    let catalog = try await fixture.open()
                    let id = try await catalog.begin(
                        Catalog.NewBackup(type: "FULL", scheduleType: .manual, source: "s\(i)", sourceKind: .files, requestedBy: "u", host: "h", pid: i))
                    await catalog.close()
                    return id
                }
            }
            return try await group.reduce(into: [UUID]()) { $0.append($1) }
        }
        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        #expect(try await catalog.appliedMigrations() == ["lifeboat-v1-backup-log", "lifeboat-v2-location-checks", "lifeboat-v3-run-leases", "lifeboat-v4-location-prunes", "lifeboat-v5-recovery", "lifeboat-v6-alerts", "lifeboat-v7-access"])
        #expect(Set(try await catalog.backups().map(\.id)) == Set(ids))
    }
}
