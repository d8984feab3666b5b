import Foundation
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatCore

/// Does every write, then loses the answer of the first one (a timeout after the server stored it).
final class AnswerLosingBackend: StorageBackend {
    let inner: any StorageBackend
    private let lost = Mutex(false)
    init(_ inner: any StorageBackend) { self.inner = inner }
    var locationDescription: String { inner.locationDescription }
    func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        try await inner.write(name, bytes: bytes, overwrite: overwrite)
        let first = lost.withLock { was -> Bool in
            defer { was = true }
            return !was
        }
        if first { throw StorageError.transient("answer lost", location: locationDescription) }
    }
    func read(_ name: ObjectName) async throws -> [UInt8] { try await inner.read(name) }
    func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] { try await inner.read(name, offset: offset, length: length) }
    func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }
    func delete(_ name: ObjectName) async throws { try await inner.delete(name) }
}

@Suite("RetryingBackend")
struct RetryingBackendTests {
    @Test("a write whose answer was lost is recognised on retry as done, when the stored bytes are ours")
    func lostAnswer() async throws {
        let scratch = ScratchDirectory()
        let local = try LocalDirectoryBackend(path: scratch.path, create: true)
        let backend = RetryingBackend(AnswerLosingBackend(local), attempts: 3, baseDelay: .milliseconds(1))
        try await backend.write(ObjectName.labelled(.index, "a"), bytes: [1, 2, 3])
        #expect(try await local.read(ObjectName.labelled(.index, "a")) == [1, 2, 3])
    }

    @Test("transient failures are retried a bounded number of times; other errors pass at once")
    func bounded() async throws {
        let scratch = ScratchDirectory()
        let faulty = FaultInjectingBackend(try LocalDirectoryBackend(path: scratch.path, create: true), failAtMutation: 1)
        let backend = RetryingBackend(faulty, attempts: 3, baseDelay: .milliseconds(1))
        try await backend.write(ObjectName.labelled(.index, "b"), bytes: [1])
        #expect(faulty.mutations == 2)
        await #expect(throws: StorageError.self) { try await backend.read(ObjectName.labelled(.index, "missing")) }
    }
}

@Suite("PackCachingBackend")
struct PackCachingBackendTests {
    /// Counts whole-object reads.
    final class CountingBackend: StorageBackend {
        let inner: any StorageBackend
        let reads = Mutex(0)
        init(_ inner: any StorageBackend) { self.inner = inner }
        var locationDescription: String { inner.locationDescription }
        func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws { try await inner.write(name, bytes: bytes, overwrite: overwrite) }
        func read(_ name: ObjectName) async throws -> [UInt8] {
            reads.withLock { $0 += 1 }
            return try await inner.read(name)
        }
        func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
            reads.withLock { $0 += 1 }
            return try await inner.read(name, offset: offset, length: length)
        }
        func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
        func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }
        func delete(_ name: ObjectName) async throws { try await inner.delete(name) }
    }

    @Test("blob reads of one pack cost one read of the pack, and short ones are still refused")
    func oneReadPerPack() async throws {
        let scratch = ScratchDirectory()
        let counting = CountingBackend(try LocalDirectoryBackend(path: scratch.path, create: true))
        let name = try ObjectName(.data, String(repeating: "ef", count: 32))
        try await counting.write(name, bytes: Array(0..<200))
        let cached = PackCachingBackend(counting)
        for i in 0..<10 { #expect(try await cached.read(name, offset: i * 10, length: 10) == Array(UInt8(i * 10)..<UInt8(i * 10 + 10))) }
        #expect(counting.reads.withLock { $0 } == 1)
        await #expect(throws: StorageError.self) { try await cached.read(name, offset: 195, length: 10) }
    }
}
