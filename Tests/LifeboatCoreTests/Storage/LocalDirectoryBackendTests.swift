import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("LocalDirectoryBackend")
struct LocalDirectoryBackendTests {
    @Test("objects are written, listed, read by range and deleted")
    func basics() async throws {
        let scratch = ScratchDirectory()
        let backend = try LocalDirectoryBackend(path: scratch.path + "/repo", create: true)
        let name = try ObjectName(.data, String(repeating: "ab", count: 32))
        try await backend.write(name, bytes: Array(0..<100))
        #expect(try await backend.read(name) == Array(0..<100))
        #expect(try await backend.read(name, offset: 10, length: 5) == [10, 11, 12, 13, 14])
        #expect(try await backend.list(.data).map(\.name) == [name])
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/repo/data/ab/" + name.name))
        try await backend.delete(name)
        #expect(try await backend.list(.data).isEmpty)
    }

    @Test("an existing object is never overwritten")
    func noOverwrite() async throws {
        let scratch = ScratchDirectory()
        let backend = try LocalDirectoryBackend(path: scratch.path, create: true)
        let name = ObjectName.labelled(.snapshots, "x")
        try await backend.write(name, bytes: [1])
        await #expect(throws: StorageError.self) { try await backend.write(name, bytes: [2]) }
        #expect(try await backend.read(name) == [1])
    }

    // A write into a folder the writer may not write to is tested where it can run as an
    // unprivileged user, also under root: PermissionCLITests.
    @Test("writes leave no temporary files behind")
    func atomicWrites() async throws {
        let scratch = ScratchDirectory()
        let backend = try LocalDirectoryBackend(path: scratch.path, create: true)
        for i in 0..<20 { try await backend.write(ObjectName.labelled(.index, "obj\(i)"), bytes: [UInt8](repeating: UInt8(i), count: 100_000)) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/index").filter { $0.hasPrefix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test("missing objects and short reads are reported as such")
    func missing() async throws {
        let scratch = ScratchDirectory()
        let backend = try LocalDirectoryBackend(path: scratch.path, create: true)
        await #expect {
            try await backend.read(ObjectName.labelled(.index, "nope"))
        } throws: { error in
            if case StorageError.objectNotFound = error { return true }
            return false
        }
        try await backend.write(ObjectName.labelled(.index, "short"), bytes: [1, 2, 3])
        await #expect {
            try await backend.read(ObjectName.labelled(.index, "short"), offset: 1, length: 10)
        } throws: { error in
            if case StorageError.truncated = error { return true }
            return false
        }
    }

    @Test("a location that does not exist is not created unless asked")
    func noLocation() {
        #expect(throws: StorageError.self) { try LocalDirectoryBackend(path: "/nonexistent/lifeboat-repo") }
    }
}
