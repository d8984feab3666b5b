import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization
import Testing

/// Several connections writing one SQLite catalog at once, as the daemon's jobs, its API
/// requests and a CLI command beside them do: nobody is answered "database is locked".
/// Serialized: two of these tests hold threads of a shared pool for a moment.
@Suite("Catalog: concurrent writers", .serialized)
struct CatalogLockingTests {
    /// What the two sides of a test have seen, each side waiting on its own EventWait.
    final class Sightings: Sendable {
        struct State {
            var claimHasRead = false
            var otherHasTried = false
            var decisions = 0
        }
        let state = Mutex(State())
        let claimSide: EventWait
        let otherSide: EventWait
        init() throws {
            claimSide = try EventWait()
            otherSide = try EventWait()
        }
    }

    @Test("a claim that reads then writes, while another connection asks to write, takes its turn instead of failing 'database is locked', and decides once")
    func claimBesideAnotherWriter() async throws {
        let fixture = try CatalogFixture(.sqlite)
        guard case .sqlite(let path) = fixture.location else { return }
        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let id = try await catalog.createExecution(
            .init(
                plan: "orders", revision: 1, mode: .test, user: "ann", incidentTime: start, createdAt: start, rtoTargetSeconds: nil, rpoTargetSeconds: nil,
                steps: [("restore", "RESTORE_BACKUP", true)]))
        let seen = try Sightings()

        // The other writer (a CLI command's connection): once the claim has read the row, it
        // asks for the write lock without waiting, says whether it got it, then writes.
        async let otherFoundLockTaken: Bool = OffPool.run {
            defer {
                seen.state.withLock { $0.otherHasTried = true }
                seen.claimSide.wake()
            }
            try seen.otherSide.until("the claim to read its row", limit: .seconds(60)) { seen.state.withLock { $0.claimHasRead } }
            // A thread of its own, as a catalog has: the shared pool may be busy with other tests.
            let threadPool = NIOThreadPool(numberOfThreads: 1)
            threadPool.start()
            defer { try? threadPool.syncShutdownGracefully() }  // its only error: shut down already
            let connection = try SQLiteConnection.open(
                storage: .file(path: path), threadPool: threadPool, logger: .init(label: "test"), on: MultiThreadedEventLoopGroup.singleton.any()
            ).wait()
            defer { try? connection.close().wait() }  // the test's own connection: its close cannot lose anything
            _ = try connection.query("PRAGMA busy_timeout = 0").wait()
            var lockWasTaken = false
            do {
                _ = try connection.query("BEGIN IMMEDIATE").wait()
            } catch let error as SQLiteError where error.reason == .busy {
                lockWasTaken = true
            }
            seen.state.withLock { $0.otherHasTried = true }
            seen.claimSide.wake()
            _ = try connection.query("PRAGMA busy_timeout = 60000").wait()
            if lockWasTaken { _ = try connection.query("BEGIN IMMEDIATE").wait() }
            _ = try connection.query("CREATE TABLE other_writes (n INTEGER)").wait()
            _ = try connection.query("INSERT INTO other_writes VALUES (1)").wait()
            _ = try connection.query("COMMIT").wait()
            return lockWasTaken
        }

        // canTake runs between the claim's read and its write; it blocks the cooperative
        // thread it runs on only until the other writer (on a Dispatch thread) has tried.
        let claimed = try await catalog.claimExecution(id, owner: ProcessIdentity(host: "h", bootID: nil, pid: 42, startTicks: nil), leaseExpiresAt: start, at: start) {
            record in
            seen.state.withLock {
                $0.claimHasRead = true
                $0.decisions += 1
            }
            seen.otherSide.wake()
            // canTake cannot throw; a wait that never ends shows as the other writer's failure.
            try? seen.claimSide.until("the other writer to ask for the lock", limit: .seconds(60)) { seen.state.withLock { $0.otherHasTried } }
            return record.host == nil
        }

        #expect(try await otherFoundLockTaken, "the claim held the write lock from its read on")
        #expect(claimed?.status == .running && claimed?.pid == 42)
        #expect(seen.state.withLock { $0.decisions } == 1, "the claim was not refused, rolled back and run again")
    }

    @Test("a SQLite catalog writes while every thread of the process's shared blocking pool is taken, as writers waiting for the lock would take them")
    func ownThread() async throws {
        let fixture = try CatalogFixture(.sqlite)
        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        struct Occupation {
            var taken = 0
            var gaveUp = 0
            var isReleased = false
        }
        let occupation = Mutex(Occupation())
        let threads = NIOSingletons.blockingPoolThreadCountSuggestion
        let allTaken = try EventWait()
        // One EventWait per blocked thread: each is woken once, by the release.
        let releases = try (0..<threads).map { _ in try EventWait() }
        for release in releases {
            NIOThreadPool.singleton.submit { _ in
                occupation.withLock { $0.taken += 1 }
                allTaken.wake()
                do {
                    try release.until("the catalog's write", limit: .seconds(30)) { occupation.withLock { $0.isReleased } }
                } catch {
                    occupation.withLock { $0.gaveUp += 1 }
                }
            }
        }
        defer {
            occupation.withLock { $0.isReleased = true }
            releases.forEach { $0.wake() }
        }
        try await OffPool.run { try allTaken.until("every thread of the shared pool to be taken", limit: .seconds(60)) { occupation.withLock { $0.taken == threads } } }

        try await catalog.recordLocationCheck(location: "usb", errors: 0, details: nil)
        #expect(occupation.withLock { $0.gaveUp } == 0, "the write waited for the shared pool's threads")
        #expect(try await catalog.lastLocationChecks()["usb"] != nil)
    }

    /// Two catalogs on one SQLite file (a daemon's and a command's) each run `write` `times`
    /// times at once; then `then` reads the result through the first.
    static func twoCatalogsAtOnce<T: Sendable>(
        times: Int, _ write: @escaping @Sendable (Catalog, String, Int) async throws -> Void, then read: (Catalog) async throws -> T
    ) async throws -> T {
        let fixture = try CatalogFixture(.sqlite)
        let daemon = try await fixture.open()
        let command = try await fixture.open()
        defer {
            Task {
                await daemon.close()
                await command.close()
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, catalog) in [("daemon", daemon), ("command", command)] {
                group.addTask { for i in 0..<times { try await write(catalog, name, i) } }
            }
            try await group.waitForAll()
        }
        return try await read(daemon)
    }

    @Test("two catalogs on one file appending to the audit trail at once leave one unbroken chain")
    func concurrentAuditAppends() async throws {
        let perCatalog = 25
        let chain = try await Self.twoCatalogsAtOnce(times: perCatalog) { catalog, name, i in
            try await catalog.appendAuditEvent(
                AuditEvent.New(
                    at: Date(timeIntervalSince1970: 1_800_000_000 + Double(i)), tokenName: name, role: "admin", address: "127.0.0.1", method: "POST",
                    route: "/api/backup/perform", status: 202, outcome: "ALLOWED", target: nil, detail: nil))
        } then: { try await $0.auditChain() }
        #expect(chain.map(\.sequence) == Array(1...Int64(2 * perCatalog)))
        #expect(zip(chain, chain.dropFirst()).allSatisfy { $0.hash == $1.previousHash }, "each event follows the one before it")
    }

    @Test("two catalogs on one file storing revisions of one plan at once number them one after the other, with no error")
    func concurrentPlanRevisions() async throws {
        let perCatalog = 15
        let revisions = try await Self.twoCatalogsAtOnce(times: perCatalog) { catalog, name, i in
            let stored = try await catalog.addPlanRevision(
                name: "orders", document: "steps: [] # \(name) \(i)", by: name, at: Date(timeIntervalSince1970: 1_800_000_000))
            #expect(stored.isNew)
        } then: { try await $0.planRevisions(name: "orders") }
        #expect(revisions.map(\.revision) == Array(1...(2 * perCatalog)))
    }

    @Test("a SQLite catalog keeps new rows in its WAL while open, and in its file alone once closed")
    func walUntilClosed() async throws {
        let fixture = try CatalogFixture(.sqlite)
        guard case .sqlite(let path) = fixture.location else { return }
        let catalog = try await fixture.open()
        try await catalog.recordLocationCheck(location: "usb", errors: 0, details: nil)
        #expect((FileManager.default.contents(atPath: path + "-wal")?.count ?? 0) > 0, "the catalog is in WAL mode")
        await catalog.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the last close moves the WAL into the file")

        // The file alone, copied elsewhere, has every committed row.
        let copy = fixture.scratch.path + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let reopened = try await Catalog.open(.sqlite(path: copy))
        defer { Task { await reopened.close() } }
        #expect(try await reopened.lastLocationChecks()["usb"] != nil)
    }
}
