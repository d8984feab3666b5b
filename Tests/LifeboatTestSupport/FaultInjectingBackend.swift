import Foundation
import LifeboatCore
import Synchronization

/// Wraps a backend and fails the N-th write or delete (counting from 1) with a transient
/// error, as a crash at that instant would leave things: everything before it done,
/// nothing after it.
public final class FaultInjectingBackend: StorageBackend {
    public let inner: any StorageBackend
    private let failAt: Int
    private let count = Mutex(0)

    public init(_ inner: any StorageBackend, failAtMutation n: Int) {
        self.inner = inner
        self.failAt = n
    }

    public var locationDescription: String { inner.locationDescription }
    /// Writes and deletes asked for so far, the failed one included.
    public var mutations: Int { count.withLock { $0 } }
    /// What the injected failure stopped (`write data/ab/…`), once it happened: a test
    /// that expects a failure checks it was this one and not another.
    public var injected: String? { failure.withLock { $0 } }
    private let failure = Mutex<String?>(nil)

    private func tick(_ what: String) throws {
        let n = count.withLock { c -> Int in
            c += 1
            return c
        }
        if n == failAt {
            failure.withLock { $0 = what }
            throw StorageError.transient("injected failure at \(what)", location: inner.locationDescription)
        }
    }

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        // Locks are bookkeeping, not data: failures are injected into the data path only.
        if name.kind != .locks { try tick("write \(name)") }
        try await inner.write(name, bytes: bytes, overwrite: overwrite)
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] { try await inner.read(name) }
    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        try await inner.read(name, offset: offset, length: length)
    }
    public func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    public func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }
    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int {
        try await inner.removeStaleTemporaries(olderThan: date)
    }

    public func delete(_ name: ObjectName) async throws {
        if name.kind != .locks { try tick("delete \(name)") }
        try await inner.delete(name)
    }
}
