import Foundation
import Synchronization

/// Serves blob-sized range reads of packs from whole packs kept in memory.
///
/// A restore or check reads a pack blob by blob, in order. Against object storage every
/// range read is a request, so tens of thousands of small files cost tens of thousands
/// of round trips; fetching each pack once (16 MiB) and keeping the last few turns them
/// into one request per pack. Memory is bounded by `capacity` packs. Other objects and
/// all writes pass straight through.
public final class PackCachingBackend: StorageBackend {
    public let inner: any StorageBackend
    public let capacity: Int
    /// Packs, least recently used first; a slot without bytes is being fetched, and
    /// readers of it wait for that one fetch instead of starting their own.
    private let slots = Mutex<[(ObjectName, Slot)]>([])

    /// @unchecked Sendable: every field is read and written under `slots`' lock.
    private final class Slot: @unchecked Sendable {
        var bytes: [UInt8]?
        var waiters: [CheckedContinuation<[UInt8], any Error>] = []
    }

    public init(_ inner: any StorageBackend, capacity: Int = 4) {
        self.inner = inner
        self.capacity = capacity
    }

    public var locationDescription: String { inner.locationDescription }

    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        guard name.kind == .data else { return try await inner.read(name, offset: offset, length: length) }
        let pack = try await packBytes(name)
        guard offset >= 0, length >= 0, offset + length <= pack.count else { throw StorageError.truncated(name, location: locationDescription) }
        return Array(pack[offset..<(offset + length)])
    }

    private enum Lookup {
        case hit([UInt8])
        case wait(Slot)
        case fetch(Slot)
    }

    private func packBytes(_ name: ObjectName) async throws -> [UInt8] {
        let lookup: Lookup = slots.withLock { entries in
            if let i = entries.firstIndex(where: { $0.0 == name }) {
                let entry = entries.remove(at: i)
                entries.append(entry)  // most recently used last
                return entry.1.bytes.map { .hit($0) } ?? .wait(entry.1)
            }
            let slot = Slot()
            if entries.count >= capacity, let oldest = entries.firstIndex(where: { $0.1.bytes != nil }) { entries.remove(at: oldest) }
            entries.append((name, slot))
            return .fetch(slot)
        }
        switch lookup {
        case .hit(let bytes):
            return bytes
        case .wait(let slot):
            return try await withCheckedThrowingContinuation { continuation in
                let ready: [UInt8]? = slots.withLock { _ in
                    if let bytes = slot.bytes { return bytes }
                    slot.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        case .fetch(let slot):
            do {
                let bytes = try await inner.read(name)
                let waiters = slots.withLock { _ in
                    slot.bytes = bytes
                    defer { slot.waiters = [] }
                    return slot.waiters
                }
                for w in waiters { w.resume(returning: bytes) }
                return bytes
            } catch {
                let waiters = slots.withLock { entries in
                    entries.removeAll { $0.1 === slot }
                    defer { slot.waiters = [] }
                    return slot.waiters
                }
                for w in waiters { w.resume(throwing: error) }
                throw error
            }
        }
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] { try await inner.read(name) }
    public func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    public func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        try await inner.write(name, bytes: bytes, overwrite: overwrite)
    }

    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int {
        try await inner.removeStaleTemporaries(olderThan: date)
    }

    public func delete(_ name: ObjectName) async throws {
        slots.withLock { $0.removeAll { $0.0 == name && $0.1.bytes != nil } }
        try await inner.delete(name)
    }
}
