import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `locks/<random id>`: who holds the repository and until when.
///
/// Backups take shared locks (any number at once); operations that delete (prune) take
/// the exclusive one. A lock is a lease: refreshed while its holder runs, stale once it
/// has expired (the only test possible for a lock from another host), and stale at once
/// when its holder is certainly gone from this host: the host rebooted since (boot id),
/// or no process runs with its pid and start time (``ProcessIdentity``). A pid alone is
/// never trusted: locks written before the boot id was recorded fall back to it only
/// while they have not expired. A holder whose lock was removed, replaced or let expire
/// (a process paused past its lease) stops at its next refresh: the packs it wrote may be
/// gone, and ``Pruner`` spares packs younger than its grace period for the same reason.
public struct RepositoryLock: Codable, Sendable {
    public var host: String
    public var pid: Int32
    public var username: String
    public var exclusive: Bool
    public var created: Date
    public var expires: Date
    /// The holder's boot and start time (absent from locks of earlier versions).
    public var bootID: String?
    public var startTicks: UInt64?

    public init(host: String, pid: Int32, username: String, exclusive: Bool, created: Date, expires: Date) {
        self.host = host
        self.pid = pid
        self.username = username
        self.exclusive = exclusive
        self.created = created
        self.expires = expires
    }

    init(holder: ProcessIdentity, username: String, exclusive: Bool, created: Date, expires: Date) {
        self.init(host: holder.host, pid: holder.pid, username: username, exclusive: exclusive, created: created, expires: expires)
        bootID = holder.bootID
        startTicks = holder.startTicks
    }

    var holderProcess: ProcessIdentity { ProcessIdentity(host: host, bootID: bootID, pid: pid, startTicks: startTicks) }

    public static let lifetime: TimeInterval = 30 * 60
    public static let refreshInterval: Duration = .seconds(5 * 60)

    public var holder: String {
        "\(exclusive ? "an exclusive" : "a shared") lock of pid \(pid) on \(host) (\(username), since \(ISO8601.format(created)))"
    }

    /// Whether the holder can no longer be running.
    public func isStale(now: Date, localHost: String) -> Bool {
        if expires < now { return true }
        return holderProcess.isCertainlyGone(localHost: localHost)
    }

    /// Runs `body` while holding a lock, refreshing it meanwhile; removes stale locks first.
    /// - Throws: ``RepositoryError/locked(by:location:)`` when a conflicting live lock exists.
    /// - Parameter clock: paces the refreshes (a test clock makes them happen on demand).
    public static func withLock<T: Sendable>(
        _ repository: Repository, exclusive: Bool, host: String, username: String, now: @escaping @Sendable () -> Date = Date.init,
        clock: any Clock<Duration> = ContinuousClock(), _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let backend = repository.backend
        let name = ObjectName(.locks, Digest256.random())
        let lock = RepositoryLock(
            holder: .current(host: host), username: username, exclusive: exclusive, created: now(), expires: now() + lifetime)
        try await backend.write(name, bytes: JSONCoding.encode(lock))
        do {
            try await checkConflicts(repository, own: name, exclusive: exclusive, host: host, now: now())
        } catch {
            try? await backend.delete(name)  // our own lock: losing the error is fine, the conflict is what the user must see
            throw error
        }
        let result: T
        do {
            let held = HeldLock(name: name, backend: backend, lock: lock, now: now)
            result = try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    while true {
                        try await clock.sleep(for: refreshInterval)
                        try await refresh(held)
                    }
                }
                group.addTask { try await $held.withValue(held) { try await body() } }
                while let next = try await group.next() {
                    if let value = next {
                        group.cancelAll()
                        return value
                    }
                }
                preconditionFailure("the body task always returns a value")
            }
        } catch {
            // A lost lock is left alone: the name may hold another process's lock now.
            if case RepositoryError.lockLost = error {} else {
                try? await backend.delete(name)  // the body's error matters more than a lock left to expire
            }
            throw error
        }
        try await backend.delete(name)
        return result
    }

    /// The lock the current task runs under (set by ``withLock(_:exclusive:host:username:now:clock:_:)``).
    @TaskLocal static var held: HeldLock?

    /// A lock being held: what was last written under its name, and the one before, since a
    /// check may read the object while a refresh rewrites it.
    final class HeldLock: Sendable {
        let name: ObjectName
        let backend: any StorageBackend
        let now: @Sendable () -> Date
        private let written: Mutex<(current: RepositoryLock, previous: RepositoryLock?)>

        init(name: ObjectName, backend: any StorageBackend, lock: RepositoryLock, now: @escaping @Sendable () -> Date) {
            self.name = name
            self.backend = backend
            self.now = now
            written = Mutex((lock, nil))
        }

        var current: RepositoryLock { written.withLock { $0.current } }

        func replace(with next: RepositoryLock) {
            written.withLock { $0 = (next, $0.current) }
        }

        /// Throws unless the stored lock is one we wrote and had not expired by now.
        func verify(allowingPrevious: Bool) async throws {
            let location = backend.locationDescription
            let stored: [UInt8]
            do {
                stored = try await backend.read(name)
            } catch StorageError.objectNotFound {
                throw RepositoryError.lockLost(reason: "\(name) was removed", location: location)
            }
            let (current, previous) = written.withLock { $0 }
            let candidates = allowingPrevious ? [current] + (previous.map { [$0] } ?? []) : [current]
            guard let ours = candidates.first(where: { JSONCoding.encode($0) == stored }) else {
                throw RepositoryError.lockLost(reason: "\(name) now holds another lock", location: location)
            }
            guard now() <= ours.expires else {
                throw RepositoryError.lockLost(reason: "it expired at \(ISO8601.format(ours.expires)) before it could be refreshed", location: location)
            }
        }
    }

    /// Extends a held lock, after checking that it is still there, still ours, and was not
    /// left to expire: any of those means another process may have judged it stale and
    /// pruned meanwhile, so the operation under it must stop rather than go on writing.
    /// - Throws: ``RepositoryError/lockLost(reason:location:)``.
    static func refresh(_ held: HeldLock) async throws {
        try await held.verify(allowingPrevious: false)
        var next = held.current
        next.expires = held.now() + lifetime
        // Recorded before it is written, so that a check reading meanwhile finds either.
        held.replace(with: next)
        try await held.backend.write(held.name, bytes: JSONCoding.encode(next), overwrite: true)
    }

    /// At a point of no return (a snapshot about to be written), checks that the lock this
    /// task runs under on `backend` is still held: a holder paused past its lease may have
    /// lost it to a prune that removed packs its snapshot would refer to. Nothing to check
    /// outside ``withLock(_:exclusive:host:username:now:clock:_:)`` or on another location.
    /// - Throws: ``RepositoryError/lockLost(reason:location:)``.
    public static func verifyHeld(on backend: any StorageBackend) async throws {
        guard let held, held.backend.locationDescription == backend.locationDescription else { return }
        try await held.verify(allowingPrevious: true)
    }

    static func checkConflicts(_ repository: Repository, own: ObjectName, exclusive: Bool, host: String, now: Date) async throws {
        let backend = repository.backend
        for info in try await backend.list(.locks) where info.name != own {
            guard let bytes = try? await backend.read(info.name) else { continue }  // released meanwhile
            guard let other = try? JSONCoding.decode(RepositoryLock.self, from: bytes, what: info.name.path) else {
                continue  // a damaged lock cannot be judged; it must not stop every backup, so it is ignored
            }
            if other.isStale(now: now, localHost: host) {
                try? await backend.delete(info.name)  // another process may have removed it first
                continue
            }
            if exclusive || other.exclusive {
                throw RepositoryError.locked(by: other.holder, location: backend.locationDescription)
            }
        }
    }
}
