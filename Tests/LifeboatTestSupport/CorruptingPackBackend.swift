import Foundation
import LifeboatCore

/// A location that stores packs wrong: every pack it writes loses a byte in the middle
/// (a disk or network that corrupts silently), as the read-back must notice.
public final class CorruptingPackBackend: StorageBackend {
    public let inner: LocalDirectoryBackend
    public init(_ inner: LocalDirectoryBackend) { self.inner = inner }
    public var locationDescription: String { inner.locationDescription }
    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        var stored = bytes
        if name.kind == .data { stored[stored.count / 2] ^= 0x40 }
        try await inner.write(name, bytes: stored, overwrite: overwrite)
    }
    public func read(_ name: ObjectName) async throws -> [UInt8] { try await inner.read(name) }
    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] { try await inner.read(name, offset: offset, length: length) }
    public func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    public func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }
    public func delete(_ name: ObjectName) async throws { try await inner.delete(name) }
}
