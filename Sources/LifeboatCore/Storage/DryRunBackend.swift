import Foundation

/// A backend that reads through and writes nothing but locks (`backup --dry-run`): what a
/// run would store is dropped (the run itself counts what it added). Locks still go through, so that a dry run is
/// seen by a `prune` like any reader, and its lock refreshes read back what they wrote.
public struct DryRunBackend: StorageBackend {
    public let inner: any StorageBackend

    public init(_ inner: any StorageBackend) {
        self.inner = inner
    }

    public var locationDescription: String { inner.locationDescription }

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        guard name.kind == .locks else { return }
        try await inner.write(name, bytes: bytes, overwrite: overwrite)
    }

    public func delete(_ name: ObjectName) async throws {
        guard name.kind == .locks else { return }
        try await inner.delete(name)
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] { try await inner.read(name) }
    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        try await inner.read(name, offset: offset, length: length)
    }
    public func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    public func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }
    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int { 0 }
}
