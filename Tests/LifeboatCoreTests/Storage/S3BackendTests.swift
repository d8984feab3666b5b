import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

/// Every backend keeps the same promises (StorageBackend's documentation).
enum StorageConformance {
    static func run(_ backend: any StorageBackend) async throws {
        let pack = ObjectName(.data, String(repeating: "ab", count: 32))
        var rng = SeededBytes(seed: 131)
        let bytes = rng.bytes(300_000)
        try await backend.write(pack, bytes: bytes)
        #expect(try await backend.read(pack) == bytes)
        #expect(try await backend.read(pack, offset: 1000, length: 10) == Array(bytes[1000..<1010]))
        #expect(try await backend.size(of: pack) == bytes.count)
        #expect(try await backend.list(.data).map(\.name) == [pack])
        await #expect(throws: StorageError.self) { try await backend.write(pack, bytes: [1]) }
        #expect(try await backend.read(pack) == bytes, "an existing object is never replaced")
        await #expect {
            try await backend.read(ObjectName(.index, "missing"))
        } throws: { error in
            if case StorageError.objectNotFound = error { return true }
            return false
        }
        await #expect(throws: StorageError.self) { try await backend.read(pack, offset: bytes.count - 5, length: 10) }
        for i in 0..<7 { try await backend.write(ObjectName(.snapshots, "s\(i)"), bytes: [UInt8(i)]) }
        #expect(try await backend.list(.snapshots).count == 7)
        try await backend.write(.config, bytes: Array("{}".utf8))
        #expect(try await backend.list(.config).count == 1)
        try await backend.write(ObjectName(.locks, "l"), bytes: [1], overwrite: false)
        try await backend.write(ObjectName(.locks, "l"), bytes: [2], overwrite: true)
        #expect(try await backend.read(ObjectName(.locks, "l")) == [2])
        try await backend.delete(pack)
        #expect(try await backend.list(.data).isEmpty)
        #expect(!(try await backend.exists(pack)))
    }
}

@Suite("S3Backend against an S3-compatible server on loopback", .enabled(if: S3TestServer.isAvailable, "scripts/test starts moto_server"))
struct S3BackendTests {
    @Test("the local directory backend keeps the storage promises")
    func localConformance() async throws {
        let scratch = ScratchDirectory()
        try await StorageConformance.run(try LocalDirectoryBackend(path: scratch.path + "/repo", create: true))
    }

    @Test("the S3 backend keeps the storage promises, every request signed as botocore would (list pages of 3)")
    func s3Conformance() async throws {
        let proxy = try S3TestServer.Proxy(["--verify-signatures"])
        let backend = try await S3TestServer.backend(endpoint: proxy.endpoint) { $0.listPageSize = 3 }
        try await StorageConformance.run(backend)
    }

    @Test("large objects go up in parts and come back whole")
    func multipart() async throws {
        let proxy = try S3TestServer.Proxy(["--verify-signatures"])
        let backend = try await S3TestServer.backend(endpoint: proxy.endpoint) {
            $0.multipartThresholdBytes = 6 << 20
            $0.partBytes = 5 << 20
        }
        var rng = SeededBytes(seed: 132)
        let bytes = rng.bytes(13 << 20)
        let name = ObjectName(.data, String(repeating: "cd", count: 32))
        try await backend.write(name, bytes: bytes)
        #expect(try await backend.read(name) == bytes)
    }

    @Test("a repository on S3 backs up, checks and restores; through 503s, stalls and cut bodies it loses nothing and takes nothing broken as good")
    func repositoryThroughFaults() async throws {
        let scratch = ScratchDirectory()
        let source = scratch.sub("source")
        var rng = SeededBytes(seed: 133)
        try FileTree.write(source + "/a.bin", rng.bytes(3 << 20))
        for i in 0..<20 { try FileTree.write(source + "/small\(i).txt", Array("file \(i)\n".utf8)) }
        let proxy = try S3TestServer.Proxy(["--fail-every", "4", "--cut-every", "5", "--stall-every", "23", "--stall-seconds", "3"])
        let s3 = try await S3TestServer.backend(endpoint: proxy.endpoint) { $0.requestTimeout = .seconds(1) }
        let backend = RetryingBackend(s3, attempts: 12, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50))
        let repo = try await Repository.initialize(
            backend: backend, passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u")
        let result = try await Archiver(repository: repo).backup(BackupOptions(paths: [source], host: "h", username: "u"))
        let reopened = try await Repository.open(backend: backend, passphrase: TestRepository.passphrase)
        let check = try await Checker(repository: reopened).check(readData: true)
        #expect(check.isOK, "\(check.errors)")
        let target = scratch.path + "/restore"
        var options = RestoreOptions(target: target)
        options.verify = true
        let restored = try await Restorer(repository: reopened).restore(result.snapshot, options: options)
        #expect(restored.isComplete, "\(restored.errors) \(restored.damagedFiles)")
        #expect(DirectoryComparison.differences(source, target + source, compareDirectoryTimes: false) == [])
    }

    @Test("a cut body is never returned as the object")
    func cutBodies() async throws {
        let proxy = try S3TestServer.Proxy(["--cut-every", "1"])
        let direct = try await S3TestServer.backend(endpoint: S3TestServer.endpoint!)
        let name = ObjectName(.index, "x")
        try await direct.write(name, bytes: Array(repeating: 7, count: 10_000))
        let cut = S3Backend(configuration: { var c = direct.configuration; c.endpoint = URL(string: proxy.endpoint)!; return c }())
        await #expect(throws: StorageError.self) { try await cut.read(name) }
        await #expect(throws: StorageError.self) { try await cut.read(name, offset: 0, length: 10_000) }
    }
}
