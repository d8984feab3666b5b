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
    func list(_ kind: ObjectKind) async throws -> [ObjectInfo] { try await inner.list(kind) }
    func delete(_ name: ObjectName) async throws { try await inner.delete(name) }
}

@Suite("RetryingBackend")
struct RetryingBackendTests {
    @Test("a write whose answer was lost is recognised on retry as done, when the stored bytes are ours")
    func lostAnswer() async throws {
        let scratch = ScratchDirectory()
        let local = try LocalDirectoryBackend(path: scratch.path, create: true)
        let backend = RetryingBackend(AnswerLosingBackend(local), attempts: 3, baseDelay: .milliseconds(1))
        try await backend.write(ObjectName(.index, "a"), bytes: [1, 2, 3])
        #expect(try await local.read(ObjectName(.index, "a")) == [1, 2, 3])
    }

    @Test("transient failures are retried a bounded number of times; other errors pass at once")
    func bounded() async throws {
        let scratch = ScratchDirectory()
        let faulty = FaultInjectingBackend(try LocalDirectoryBackend(path: scratch.path, create: true), failAtMutation: 1)
        let backend = RetryingBackend(faulty, attempts: 3, baseDelay: .milliseconds(1))
        try await backend.write(ObjectName(.index, "b"), bytes: [1])
        #expect(faulty.mutations == 2)
        await #expect(throws: StorageError.self) { try await backend.read(ObjectName(.index, "missing")) }
    }
}
