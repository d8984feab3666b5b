import Foundation

/// A mounted removable medium (TERTIARY): a local directory treated as write-once.
///
/// Objects are never overwritten or deleted (locks and the manifest excepted); writes are
/// fsynced like every local write. Its `manifest.json` is brought up to date by whoever
/// writes to it after the objects, never before (the replicator and the air-gap export).
public final class RemovableMediaBackend: StorageBackend {
    public let inner: LocalDirectoryBackend
    public var locationDescription: String { inner.locationDescription }

    public init(path: String, create: Bool = false) throws {
        inner = try LocalDirectoryBackend(path: path, create: create)
    }

    private static func isBookkeeping(_ name: ObjectName) -> Bool { name.kind == .locks || name.kind == .manifest }

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        if overwrite && !Self.isBookkeeping(name) { throw StorageError.alreadyExists(name, location: locationDescription) }
        try await inner.write(name, bytes: bytes, overwrite: overwrite)
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] { try await inner.read(name) }
    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        try await inner.read(name, offset: offset, length: length)
    }
    public func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    public func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }

    /// A temporary file is not an object: clearing one does not break the write-once promise.
    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int {
        try await inner.removeStaleTemporaries(olderThan: date)
    }

    public func delete(_ name: ObjectName) async throws {
        guard Self.isBookkeeping(name) else { throw StorageError.readOnly(location: "\(locationDescription) (write-once medium)") }
        try await inner.delete(name)
    }
}
