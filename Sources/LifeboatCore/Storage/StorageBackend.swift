import Foundation

/// One storage location: a flat store of named, immutable objects.
///
/// Every backend keeps these promises, which the repository relies on for crash safety:
/// - `write` is atomic: after a crash at any instant the name either does not exist or
///   holds exactly the bytes written; when it returns, the object is durable.
/// - an object is never changed in place; `write` of an existing name fails with
///   ``StorageError/alreadyExists(_:location:)`` unless `overwrite` is true (locks only).
/// - `listing` of a kind returns every object durably written before the call, and only
///   keys that are valid names of the kind become objects (``ObjectName``): any other key
///   it finds there is in `rejected`, never used.
/// - a local backend never reads, writes or creates anything outside its root: no path
///   below the root is followed through a symbolic link.
public protocol StorageBackend: Sendable {
    /// A human-readable name for messages: a path or URL, never a credential.
    var locationDescription: String { get }

    func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws
    func read(_ name: ObjectName) async throws -> [UInt8]
    /// Reads `length` bytes at `offset`; fewer bytes than asked is ``StorageError/truncated(_:location:)``.
    func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8]
    func size(of name: ObjectName) async throws -> Int
    /// The objects of `kind` and the keys under its folder that are not valid names of it.
    func listing(_ kind: ObjectKind) async throws -> ObjectListing
    func delete(_ name: ObjectName) async throws
    /// Removes the half-written temporary files that writers killed mid-write left behind
    /// (never objects), last changed before `date`; returns how many. Backends without
    /// temporary files have nothing to do.
    func removeStaleTemporaries(olderThan date: Date) async throws -> Int
    /// A new object of `kind` to write a block at a time and name when complete (see
    /// ``StagedObject``); `expectedBytes` is about how large it will be. Nothing is touched
    /// before the first block is written. By default the blocks are gathered in memory and
    /// written whole.
    func makeStagedObject(_ kind: ObjectKind, expectedBytes: Int) -> any StagedObject
}

extension StorageBackend {
    /// The objects of `kind`; keys that are not valid names of it are left out (verbs that
    /// survey a whole location report them from ``listing(_:)``).
    public func list(_ kind: ObjectKind) async throws -> [ObjectInfo] {
        try await listing(kind).objects
    }

    /// The keys under `kinds` that are not valid object names of their kind, for the verbs
    /// that survey a whole location.
    public func rejectedKeys(_ kinds: [ObjectKind] = ObjectKind.allCases) async throws -> [RejectedObjectKey] {
        var out: [RejectedObjectKey] = []
        for kind in kinds { out += try await listing(kind).rejected }
        return out
    }

    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int { 0 }

    public func makeStagedObject(_ kind: ObjectKind, expectedBytes: Int) -> any StagedObject {
        MemoryStagedObject(backend: self, expectedBytes: expectedBytes)
    }

    public func write(_ name: ObjectName, bytes: [UInt8]) async throws {
        try await write(name, bytes: bytes, overwrite: false)
    }

    public func exists(_ name: ObjectName) async throws -> Bool {
        do {
            _ = try await size(of: name)
            return true
        } catch StorageError.objectNotFound {
            return false
        }
    }
}
