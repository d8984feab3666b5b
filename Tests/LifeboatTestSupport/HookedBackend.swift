import Foundation
import LifeboatCore

/// Wraps a backend and calls `beforeWrite` with each object's name before writing it (and
/// `beforeRead` before reading one): a test's way to act at a known point of a backup (a
/// pack is written while the file whose chunks fill it is still being read) or a restore
/// (a file's content is fetched while the walk waits for it).
public final class HookedBackend: StorageBackend {
    public let inner: any StorageBackend
    private let beforeWrite: @Sendable (ObjectName) async throws -> Void
    private let beforeRead: @Sendable (ObjectName) async throws -> Void

    public init(
        _ inner: any StorageBackend, beforeWrite: @escaping @Sendable (ObjectName) async throws -> Void = { _ in },
        beforeRead: @escaping @Sendable (ObjectName) async throws -> Void = { _ in }
    ) {
        self.inner = inner
        self.beforeWrite = beforeWrite
        self.beforeRead = beforeRead
    }

    public var locationDescription: String { inner.locationDescription }

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        try await beforeWrite(name)
        try await inner.write(name, bytes: bytes, overwrite: overwrite)
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] {
        try await beforeRead(name)
        return try await inner.read(name)
    }
    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        try await beforeRead(name)
        return try await inner.read(name, offset: offset, length: length)
    }
    public func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    public func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }
    public func delete(_ name: ObjectName) async throws { try await inner.delete(name) }
    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int {
        try await inner.removeStaleTemporaries(olderThan: date)
    }
}
