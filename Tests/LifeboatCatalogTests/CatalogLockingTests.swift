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
}
