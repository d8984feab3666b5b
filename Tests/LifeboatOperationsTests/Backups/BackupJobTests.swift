import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import Synchronization
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

    @Test("a job cancelled in the middle (Ctrl-C) is recorded INTERRUPTED with what it leaves, not FAILED, and throws a BackupInterruption")
    func cancelledIsInterrupted() async throws {
        let f = try await OperationsFixture(scratch)
        defer { Task { await f.context.backends.shutdown() } }
        var job = BackupJob(context: f.context)
        let (reached, arrived) = AsyncStream<Void>.makeStream()
        // Never yields: iterating it ends only when the waiting task is cancelled.
        let (held, holdOpen) = AsyncStream<Void>.makeStream()
        defer { holdOpen.finish() }
        job.afterEachStage = { event in
            guard event.stage == .preCheck else { return }
            arrived.yield()
            // Held here until the test cancels the job, as Ctrl-C cancels a run in the middle;
            // the cancellation ends the wait and the run goes on to meet it in the backup stage.
            for await _ in held {}
        }
        let running = Task { try await job.run(.init(source: "app"), passphrase: TestRepository.passphrase) }
        for await _ in reached { break }
        running.cancel()
        let interruption = await #expect(throws: BackupInterruption.self) { try await running.value }
        #expect(interruption?.snapshot == nil)
        let row = try #require(try await f.context.withCatalog { try await $0.backups() }.first)
        #expect(row.status == .interrupted, "\(row.status): \(row.error ?? "")")
        let error = try #require(row.error)
        #expect(error.contains("after stage PRE_CHECK") && error.contains("no snapshot was written"), "\(error)")
        #expect(error.contains("next backup to reuse") && error.contains("prune removes it"), "\(error)")
        #expect(!error.contains("CancellationError"), "\(error)")
        #expect(row.finishedAt != nil)
    }

    @Test("a job that fails before its pipeline starts (a wrong passphrase, an unreadable passphrase file, PRIMARY down) is recorded FAILED with the reason")
    func failureBeforePipelineIsRecorded() async throws {
        let f = try await OperationsFixture(scratch)
        defer { Task { await f.context.backends.shutdown() } }
        let job = BackupJob(context: f.context)
        var request = BackupJob.Request(source: "app")
        request.passphraseOrigin = "the file /etc/lifeboat/pass (passphrase: in /etc/lifeboat.yaml)"
        await #expect(throws: BackupJobError.self) { try await job.run(request, passphrase: "not the passphrase") }
        await #expect(throws: ConfigurationError.self) {
            try await job.run(.init(source: "app"), passphrase: { throw ConfigurationError.missingSecret("cannot read the password file /nowhere/pass") })
        }
        let primary = scratch.path + "/primary"
        try FileManager.default.moveItem(atPath: primary, toPath: primary + ".away")
        await #expect(throws: (any Error).self) { try await job.run(.init(source: "app"), passphrase: TestRepository.passphrase) }

        let rows = try await f.context.withCatalog { try await $0.backups() }.reversed().map { $0 }
        try #require(rows.map(\.status) == [.failed, .failed, .failed], "\(rows.map(\.status))")
        #expect(rows.allSatisfy { $0.finishedAt != nil && $0.source == "app" })
        #expect(rows[0].error?.contains("/etc/lifeboat/pass") == true && rows[0].error?.contains("does not open") == true, "\(rows[0].error ?? "")")
        #expect(rows[1].error?.contains("/nowhere/pass") == true, "\(rows[1].error ?? "")")
        #expect(rows[2].error?.contains(primary) == true, "\(rows[2].error ?? "")")
    }

    @Test("a second job of a source that is running is refused naming the running one, and records nothing")
    func secondRunRefused() async throws {
        let f = try await OperationsFixture(scratch)
        defer { Task { await f.context.backends.shutdown() } }
        var job = BackupJob(context: f.context)
        // A lease no loaded test runner outlasts: the first run must stay live while the second asks.
        job.leaseDuration = .seconds(3600)
        let second = BackupJob(context: f.context)
        let refusal = Mutex<(any Error)?>(nil)
        job.afterEachStage = { event in
            guard event.stage == .preCheck else { return }
            // While the first is in the middle of its run.
            do {
                _ = try await second.run(.init(source: "app"), passphrase: TestRepository.passphrase)
            } catch {
                refusal.withLock { $0 = error }
            }
        }
        let first = try await job.run(.init(source: "app"), passphrase: TestRepository.passphrase)
        #expect(first.record.status == .succeeded)
        let error = try #require(refusal.withLock { $0 })
        guard case BackupJobError.alreadyRunning(let source, let owner, _, let stage) = error else {
            Issue.record("expected alreadyRunning, got \(error)")
            return
        }
        #expect(source == "app" && owner == "pid \(getpid()) on testhost" && stage == "PRE_CHECK")
        #expect("\(error)".contains("already being backed up"))
        let rows = try await f.context.withCatalog { try await $0.backups() }
        #expect(rows.count == 1)
        #expect(try await TestRepository.open(at: scratch.path + "/primary").snapshots().count == 1)
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
