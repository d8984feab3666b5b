import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("S3Backend against an S3-compatible server on loopback", .enabled(if: S3TestServer.isAvailable, "scripts/test starts moto_server"))
struct S3BackendTests {
    @Test("large objects go up in parts and come back whole")
    func multipart() async throws {
        let proxy = try S3TestServer.Proxy(["--verify-signatures"])
        let backend = try await S3TestServer.backend(endpoint: proxy.endpoint) {
            $0.multipartThresholdBytes = 6 << 20
            $0.partBytes = 5 << 20
        }
        var rng = SeededBytes(seed: 132)
        let bytes = rng.bytes(13 << 20)
        let name = try ObjectName(.data, String(repeating: "cd", count: 32))
        try await backend.write(name, bytes: bytes)
        #expect(try await backend.read(name) == bytes)
    }

    @Test("with Object Lock every object, single or in parts, is written with its retention, and the bucket is made with Object Lock enabled")
    func objectLock() async throws {
        let scratch = ScratchDirectory()
        let requests = scratch.path + "/requests.jsonl"
        let proxy = try S3TestServer.Proxy(["--verify-signatures", "--log", requests])
        let locked = try await S3TestServer.backend(endpoint: proxy.endpoint) {
            $0.objectLock = ObjectLock(mode: .compliance, period: .seconds(3 * 86_400))
            $0.multipartThresholdBytes = 6 << 20
            $0.partBytes = 5 << 20
        }
        var rng = SeededBytes(seed: 133)
        let small = try ObjectName(.data, String(repeating: "e1", count: 32))
        let large = try ObjectName(.data, String(repeating: "e2", count: 32))
        let before = Date()
        try await locked.write(small, bytes: rng.bytes(10_000))
        try await locked.write(large, bytes: rng.bytes(11 << 20))
        let retention = try #require(try await locked.retention(of: small), "no retention")
        #expect(retention.mode == "COMPLIANCE")
        let days = retention.retainUntil.timeIntervalSince(before) / 86_400
        #expect(days > 2.99 && days < 3.01, "retained until \(retention.retainUntil)")
        // moto keeps no retention for multipart objects (it answers 500), so what was asked is
        // checked on the wire: the lock on CreateMultipartUpload, Content-MD5 on every part.
        let sent = try String(contentsOfFile: requests, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let bucketCreation = try #require(sent.first { $0["method"] as? String == "PUT" && !(($0["path"] as? String) ?? "").contains("/repo/") })
        #expect((bucketCreation["headers"] as? [String: String])?["x-amz-bucket-object-lock-enabled"] == "true")
        let start = try #require(sent.first { $0["method"] as? String == "POST" && (($0["path"] as? String) ?? "").hasSuffix("?uploads=") })
        let startHeaders = try #require(start["headers"] as? [String: String])
        #expect(startHeaders["x-amz-object-lock-mode"] == "COMPLIANCE")
        #expect(startHeaders["x-amz-object-lock-retain-until-date"].flatMap(ISO8601.parse).map { $0 > before.addingTimeInterval(2.99 * 86_400) } == true)
        let parts = sent.filter { (($0["path"] as? String) ?? "").contains("partNumber=") }
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { ($0["headers"] as? [String: String])?["content-md5"] != nil })
        // Without the option nothing is locked.
        let plain = try await S3TestServer.backend(endpoint: proxy.endpoint)
        try await plain.write(small, bytes: [1, 2, 3])
        #expect(try await plain.retention(of: small) == nil)
        await #expect(throws: StorageError.self) { _ = try await plain.retention(of: try ObjectName(.data, String(repeating: "ff", count: 32))) }
    }

    @Test("a repository on S3 backs up, checks and restores; through 503s, stalls and cut bodies it loses nothing and takes nothing broken as good")
    func repositoryThroughFaults() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 133)
        try FileTree.write(source + "/a.bin", rng.bytes(3 << 20))
        for i in 0..<20 { try FileTree.write(source + "/small\(i).txt", Array("file \(i)\n".utf8)) }
        let proxy = try S3TestServer.Proxy(["--fail-every", "4", "--cut-every", "5", "--stall-every", "23", "--stall-seconds", "3"])
        let s3 = try await S3TestServer.backend(endpoint: proxy.endpoint) { $0.requestTimeout = .seconds(1) }
        let backend = RetryingBackend(s3, attempts: 12, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50))
        let repo = try await Repository.initialize(
            backend: backend, passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u")
        let result = try await FileTreeBackup(repository: repo).backup(BackupOptions(paths: [source], host: "h", username: "u"))
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
        let name = ObjectName.labelled(.index, "x")
        try await direct.write(name, bytes: Array(repeating: 7, count: 10_000))
        let cut = S3Backend(configuration: { var c = direct.configuration; c.endpoint = URL(string: proxy.endpoint)!; return c }(), client: S3TestServer.client)
        await #expect(throws: StorageError.self) { try await cut.read(name) }
        await #expect(throws: StorageError.self) { try await cut.read(name, offset: 0, length: 10_000) }
    }

    @Test("a write that must not replace an object is conditional: the server refuses a second writer even without the HEAD, single or in parts, and locks are written over unconditionally")
    func conditionalWrites() async throws {
        let scratch = ScratchDirectory()
        let requests = scratch.path + "/requests.jsonl"
        let proxy = try S3TestServer.Proxy(["--verify-signatures", "--log", requests])
        let backend = try await S3TestServer.backend(endpoint: proxy.endpoint) {
            $0.checksAbsenceFirst = false
            $0.multipartThresholdBytes = 6 << 20
            $0.partBytes = 5 << 20
        }
        var rng = SeededBytes(seed: 134)
        let small = ObjectName.labelled(.snapshots, "conditional")
        let first = rng.bytes(1000)
        try await backend.write(small, bytes: first)
        await expectError(isAlreadyExists) { try await backend.write(small, bytes: rng.bytes(1000)) }
        #expect(try await backend.read(small) == first)

        let large = ObjectName.labelled(.data, "conditional parts")
        let whole = rng.bytes(11 << 20)
        try await backend.write(large, bytes: whole)
        await expectError(isAlreadyExists) { try await backend.write(large, bytes: rng.bytes(11 << 20)) }
        #expect(try await backend.read(large) == whole)

        let lock = ObjectName.labelled(.locks, "conditional")
        try await backend.write(lock, bytes: [1])
        try await backend.write(lock, bytes: [2], overwrite: true)
        #expect(try await backend.read(lock) == [2])

        let sent = try String(contentsOfFile: requests, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        func headers(_ r: [String: Any]) -> [String: String] { r["headers"] as? [String: String] ?? [:] }
        func path(_ r: [String: Any]) -> String { r["path"] as? String ?? "" }
        let smallPuts = sent.filter { $0["method"] as? String == "PUT" && path($0).hasSuffix(small.path) }
        #expect(smallPuts.count == 2 && smallPuts.allSatisfy { headers($0)["if-none-match"] == "*" })
        let completions = sent.filter { $0["method"] as? String == "POST" && path($0).contains(large.path + "?uploadId=") }
        #expect(completions.count == 2 && completions.allSatisfy { headers($0)["if-none-match"] == "*" })
        let lockPuts = sent.filter { $0["method"] as? String == "PUT" && path($0).hasSuffix(lock.path) }
        #expect(lockPuts.map { headers($0)["if-none-match"] } == ["*", nil])
        #expect(!sent.contains { $0["method"] as? String == "HEAD" && path($0).hasSuffix(small.path) }, "no HEAD when the server honours the condition")
    }

    @Test("a listing page larger than a listing can be is refused, not collected")
    func oversizedListing() async throws {
        let direct = try await S3TestServer.backend(endpoint: S3TestServer.endpoint!)
        try await direct.write(ObjectName.labelled(.index, "listed"), bytes: [1])
        let proxy = try S3TestServer.Proxy(["--pad-listings", "\(9 << 20)"])
        let padded = S3Backend(configuration: { var c = direct.configuration; c.endpoint = URL(string: proxy.endpoint)!; return c }(), client: S3TestServer.client)
        await expectError({ if case StorageError.oversizedAnswer = $0 { return true } else { return false } }) { try await padded.list(.index) }
        #expect(try await direct.list(.index).count == 1)
    }

    @Test("a ranged read takes no more than the range: a server that answers the whole object is refused")
    func rangeBounded() async throws {
        let direct = try await S3TestServer.backend(endpoint: S3TestServer.endpoint!)
        var rng = SeededBytes(seed: 135)
        let bytes = rng.bytes(2 << 20)
        let name = ObjectName.labelled(.data, "ranged")
        try await direct.write(name, bytes: bytes)
        #expect(try await direct.read(name, offset: 100, length: 50) == Array(bytes[100..<150]))
        let proxy = try S3TestServer.Proxy(["--ignore-range"])
        let whole = S3Backend(configuration: { var c = direct.configuration; c.endpoint = URL(string: proxy.endpoint)!; return c }(), client: S3TestServer.client)
        await expectError({ if case StorageError.oversizedAnswer = $0 { return true } else { return false } }) {
            try await whole.read(name, offset: 100, length: 50)
        }
        // A range reaching the end needs the whole answer, and gets it.
        #expect(try await whole.read(name, offset: bytes.count - 10, length: 10) == Array(bytes.suffix(10)))
    }

    @Test(
        "through resets, 500s, SlowDowns and cut bodies at one kind of request, backup, replicate, forget, prune and restore on S3 lose nothing and check clean",
        arguments: ["PUT", "GET", "LIST", "HEAD", "POST", "DELETE"])
    func faultsByRequestKind(kind: String) async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 136)
        // Over the multipart threshold below, so that uploads in parts (POST) happen too.
        try FileTree.write(source + "/big.bin", rng.bytes(7 << 20))
        for i in 0..<8 { try FileTree.write(source + "/small\(i).txt", Array("file \(i)\n".utf8)) }
        let proxy = try S3TestServer.Proxy(["--kinds", kind, "--fail-every", "3", "--reset-every", "5", "--cut-every", "4"])
        func faulty() async throws -> RetryingBackend {
            let s3 = try await S3TestServer.backend(endpoint: proxy.endpoint) {
                $0.requestTimeout = .seconds(10)
                $0.multipartThresholdBytes = 6 << 20
                $0.partBytes = 5 << 20
                $0.listPageSize = 4
            }
            return RetryingBackend(s3, attempts: 12, baseDelay: .milliseconds(2), maxDelay: .milliseconds(20))
        }
        let backend = try await faulty()
        let repo = try await Repository.initialize(
            backend: backend, passphrase: TestRepository.passphrase, kdf: TestRepository.cheapKDF, host: "h", username: "u")
        let first = try await TestRepository.backup(repo, [source])
        try FileManager.default.removeItem(atPath: source + "/big.bin")
        try FileTree.write(source + "/other.bin", rng.bytes(1 << 20))
        let second = try await TestRepository.backup(repo, [source])

        let replica = try await faulty()
        let copied = try await Replicator(source: backend, destination: replica).replicate()
        #expect(copied.rejected.isEmpty && copied.objectsCopied > 5)

        let forgetter = Forgetter(repository: repo)
        let plan = try await forgetter.plan(RetentionPolicy(last: 1))
        #expect(plan.forgotten.map(\.id) == [first.snapshotID])
        try await forgetter.execute(plan, host: "h", username: "u")
        var pruner = Pruner(repository: repo)
        pruner.packGracePeriod = .zero
        let pruned = try await pruner.prune(host: "h", username: "u")
        #expect(pruned.packsDeleted + pruned.packsRepacked > 0)

        for (label, location) in [("repository", backend), ("replica", replica)] {
            let opened = try await Repository.open(backend: location, passphrase: TestRepository.passphrase)
            let check = try await Checker(repository: opened).check(readData: true)
            #expect(check.isOK, "\(label) after faults at \(kind): \(check.errors)")
            let target = scratch.path + "/restore-\(label)"
            var options = RestoreOptions(target: target)
            options.verify = true
            let restored = try await Restorer(repository: opened).restore(second.snapshot, options: options)
            #expect(restored.isComplete, "\(label): \(restored.errors)")
            #expect(DirectoryComparison.differences(source, target + source, compareDirectoryTimes: false) == [])
        }
    }
}
