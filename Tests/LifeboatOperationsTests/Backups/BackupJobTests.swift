import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

@Suite("BackupJob: a source's pipeline run with its BackupLog record")
struct BackupJobTests {
    let scratch = ScratchDirectory("job")

    @Test("a job records its run as SUCCEEDED with the snapshot it wrote, and a restoration test in the same row")
    func recordsRun() async throws {
        let f = try await OperationsFixture(scratch)
        defer { Task { await f.context.backends.shutdown() } }
        var request = BackupJob.Request(source: "app", type: .full)
        request.restoreTest = true
        let outcome = try await BackupJob(context: f.context).run(request, passphrase: TestRepository.passphrase)
        #expect(outcome.record.status == .succeeded)
        #expect(outcome.record.stage == "FINISHED")
        #expect(outcome.restoreTest?.passed == true)
        #expect(outcome.record.restoreTest.result == "PASSED")
        let snapshots = try await TestRepository.open(at: scratch.path + "/primary").snapshots()
        #expect(snapshots.map(\.id.hex) == [outcome.record.snapshotId])
        #expect(snapshots.first?.snapshot.tags.contains("source:app") == true)
    }

    @Test("a job that dies inside a process that lives on is RUNNING until its lease expires, then INTERRUPTED; the next run copies what it left pending")
    func leaseExpires() async throws {
        let f = try await OperationsFixture(scratch)
        defer { Task { await f.context.backends.shutdown() } }
        var job = BackupJob(context: f.context)
        job.afterEachStage = { event in
            if event.stage == .backup { throw DiedInside() }
        }
        await #expect(throws: DiedInside.self) { try await job.run(.init(source: "app"), passphrase: TestRepository.passphrase) }
        try await f.context.withCatalog { catalog in
            let row = try #require(try await catalog.backups().first)
            #expect(row.status == .running && row.stage == "BACKUP")
            #expect(row.snapshotId != nil)
            #expect(row.locations.map { "\($0.location) \($0.status.rawValue)" }.sorted() == ["primary VERIFIED", "usb PENDING"])
            // Its owner, this process, is alive and its lease has not run out: still RUNNING. Asked
            // at a time inside the lease's first term, not at "now": on a loaded machine the job
            // alone can outlast a lease that nothing renews any more.
            #expect(try await catalog.markInterrupted(host: "testhost", at: row.startedAt.addingTimeInterval(1)) == 0)
            let later = Date().addingTimeInterval(Catalog.defaultLease.seconds + 1)
            #expect(try await catalog.markInterrupted(host: "testhost", at: later) == 1)
            let marked = try #require(try await catalog.backup(id: row.id))
            #expect(marked.status == .interrupted)
            #expect(marked.error?.contains("lease expired") == true)
        }
        // The next run of the same source goes ahead and succeeds.
        let next = try await BackupJob(context: f.context).run(.init(source: "app"), passphrase: TestRepository.passphrase)
        #expect(next.record.status == .succeeded)
        let rows = try await f.context.withCatalog { try await $0.backups() }
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { row in row.locations.first { $0.location == "usb" }?.status == .verified })
    }

    @Test("an unknown source and a type that does not fit the source are refused before anything is written")
    func refusals() async throws {
        let f = try await OperationsFixture(scratch)
        defer { Task { await f.context.backends.shutdown() } }
        let job = BackupJob(context: f.context)
        await #expect(throws: ConfigurationError.self) { try await job.run(.init(source: "nope"), passphrase: TestRepository.passphrase) }
        await #expect(throws: ConfigurationError.self) {
            try await job.run(.init(source: "app", type: .transactionLog), passphrase: TestRepository.passphrase)
        }
        #expect(try await TestRepository.open(at: scratch.path + "/primary").snapshots().isEmpty)
    }

    @Test("a PostgreSQL source's password travels with its connection, never through the process's environment")
    func passwordTravelsWithConnection() async throws {
        let passwordFile = scratch.path + "/pg-password"
        try "s3cret\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let f = try await OperationsFixture(
            scratch, extraSources: "  - { name: db, kind: postgres, url: 'postgresql://app@127.0.0.1/app', passwordFile: \(passwordFile) }")
        defer { Task { await f.context.backends.shutdown() } }
        let before = ProcessInfo.processInfo.environment["PGPASSWORD"]
        let source = try BackupJob(context: f.context).pipelineSource(try f.context.configuration.source(named: "db"))
        guard case .postgres(let pg, _) = source else {
            Issue.record("expected a PostgreSQL source, got \(source)")
            return
        }
        #expect(pg.password == "s3cret")
        #expect(ProcessInfo.processInfo.environment["PGPASSWORD"] == before)
    }

    @Test("child processes get an environment built for them, not the process's secrets")
    func childEnvironment() throws {
        #expect(ProcessInfo.processInfo.environment["PATH"] != nil)
        let out = try ChildProcess.run(["/usr/bin/env"])
        let names = Set(out.stdout.split(separator: "\n").compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
        #expect(names == ["PATH", "LC_ALL"])
    }
}

struct DiedInside: Error {}
