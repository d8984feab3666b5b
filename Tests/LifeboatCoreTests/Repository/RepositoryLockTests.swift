import Foundation
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatCore

/// The wall-clock time a lock holder reads, set by the test.
final class DateSource: Sendable {
    private let date = Mutex(Date())
    var now: Date { date.withLock { $0 } }
    func set(_ d: Date) { date.withLock { $0 = d } }
}

/// Counts the writes of lock objects and signals each after the first (the refreshes).
final class LockWrites: Sendable {
    private let count = Mutex(0)
    let refreshes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (refreshes, continuation) = AsyncStream<Void>.makeStream()
    }

    func saw(_ name: ObjectName) {
        guard name.kind == .locks else { return }
        if count.withLock({ n in
            n += 1
            return n
        }) > 1 { continuation.yield() }
    }
}

@Suite("RepositoryLock", .timeLimit(.minutes(2)))
struct RepositoryLockTests {
    struct Holder {
        let local: LocalDirectoryBackend
        let repo: Repository
        let writes: LockWrites
        let clock = ManualClock()
        let dates = DateSource()
    }

    func holder(_ scratch: ScratchDirectory) async throws -> Holder {
        _ = try await TestRepository.create(at: scratch.path + "/repo")
        let local = try LocalDirectoryBackend(path: scratch.path + "/repo")
        let writes = LockWrites()
        let hooked = HookedBackend(local) { writes.saw($0) }
        return Holder(local: local, repo: try await Repository.open(backend: hooked, passphrase: TestRepository.passphrase), writes: writes)
    }

    /// Holds a shared lock with `h`'s clock and dates; the body ends at the first refresh
    /// that rewrites the lock, or when it is cancelled.
    func hold(_ h: Holder) -> Task<String, any Error> {
        let (repo, clock, dates, writes) = (h.repo, h.clock, h.dates, h.writes)
        return Task {
            try await RepositoryLock.withLock(repo, exclusive: false, host: "h", username: "u", now: { dates.now }, clock: clock) {
                for await _ in writes.refreshes { break }
                return "the body ran to its end"
            }
        }
    }

    func isLockLost(_ error: any Error) -> Bool {
        if case RepositoryError.lockLost = error { return true }
        return false
    }

    @Test("a held lock is rewritten at each refresh with a later expiry")
    func refreshes() async throws {
        let scratch = ScratchDirectory()
        let h = try await holder(scratch)
        let start = h.dates.now
        let task = hold(h)
        await h.clock.sleepers(atLeast: 1)
        h.dates.set(start + 300)
        h.clock.advance(by: RepositoryLock.refreshInterval)
        #expect(try await task.value == "the body ran to its end")
        #expect(try await h.local.list(.locks).isEmpty, "released at the end")
    }

    @Test("a lock removed while its holder runs (judged stale elsewhere) stops the operation at the next refresh, and is not written again")
    func removed() async throws {
        let scratch = ScratchDirectory()
        let h = try await holder(scratch)
        let task = hold(h)
        await h.clock.sleepers(atLeast: 1)
        for info in try await h.local.list(.locks) { try await h.local.delete(info.name) }
        h.clock.advance(by: RepositoryLock.refreshInterval)
        await #expect(performing: { try await task.value }, throws: isLockLost)
        #expect(try await h.local.list(.locks).isEmpty)
    }

    @Test("a lock replaced by another process's stops the operation, and the other lock stays")
    func replaced() async throws {
        let scratch = ScratchDirectory()
        let h = try await holder(scratch)
        let task = hold(h)
        await h.clock.sleepers(atLeast: 1)
        let own = try #require(try await h.local.list(.locks).first)
        let other = RepositoryLock(host: "elsewhere", pid: 1, username: "x", exclusive: true, created: Date(), expires: Date() + 1800)
        let otherBytes = JSONCoding.encode(other)
        try await h.local.write(own.name, bytes: otherBytes, overwrite: true)
        h.clock.advance(by: RepositoryLock.refreshInterval)
        await #expect(performing: { try await task.value }, throws: isLockLost)
        #expect(try await h.local.read(own.name) == otherBytes)
    }

    @Test("a lock that expired before it could be refreshed (its holder was paused) stops the operation")
    func expired() async throws {
        let scratch = ScratchDirectory()
        let h = try await holder(scratch)
        let start = h.dates.now
        let task = hold(h)
        await h.clock.sleepers(atLeast: 1)
        h.dates.set(start + RepositoryLock.lifetime + 60)
        h.clock.advance(by: RepositoryLock.refreshInterval)
        await #expect(performing: { try await task.value }, throws: isLockLost)
    }

    @Test("a backup whose lock was removed while it ran (paused past its lease, judged stale) stops before writing its snapshot")
    func noSnapshotWithoutTheLock() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 141)
        try FileTree.write(source + "/a.bin", rng.bytes(1 << 20))
        _ = try await TestRepository.create(at: scratch.path + "/repo")
        let local = try LocalDirectoryBackend(path: scratch.path + "/repo")
        // The last thing a backup writes before its snapshot is its index: the lock goes then,
        // as a prune that found it expired would remove it.
        let hooked = HookedBackend(local) { name in
            guard name.kind == .index else { return }
            for info in try await local.list(.locks) { try await local.delete(info.name) }
        }
        let repo = try await Repository.open(backend: hooked, passphrase: TestRepository.passphrase)
        await #expect(performing: { try await TestRepository.backup(repo, [source]) }, throws: isLockLost)
        #expect(try await local.list(.snapshots).isEmpty, "no snapshot may refer to packs a prune may have taken")
    }

    @Test("outside a lock, or with its lock in place, the check at a point of no return passes")
    func heldLockPasses() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        try await RepositoryLock.verifyHeld(on: repo.backend)
        let value = try await RepositoryLock.withLock(repo, exclusive: false, host: "h", username: "u") {
            try await RepositoryLock.verifyHeld(on: repo.backend)
            return 7
        }
        #expect(value == 7)
    }
}
