import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

/// One kind of storage location, as the conformance suite makes it.
enum BackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case local
    case removableMedia
    /// S3 through the proxy that checks every request's signature as botocore would.
    case s3
    case retryingLocal
    case retryingS3
    case packCachingLocal
    case packCachingS3
    /// Paced at rates the suite never reaches: the pacing's path, not its waits.
    case rateLimitedS3

    var testDescription: String { rawValue }

    var isS3: Bool { self == .s3 || self == .retryingS3 || self == .packCachingS3 || self == .rateLimitedS3 }

    /// Only locks and the manifest may be deleted or overwritten on a write-once medium.
    var isWriteOnce: Bool { self == .removableMedia }

    /// A fresh, empty location of this kind.
    func make() async throws -> BackendHarness {
        let scratch = ScratchDirectory("conformance")
        let root = scratch.path + "/repo"
        func s3() async throws -> (S3Backend, S3TestServer.Proxy?) {
            let endpoint = try #require(S3TestServer.endpoint, "LIFEBOAT_TEST_S3_ENDPOINT is not set: scripts/test starts moto_server")
            let proxy = self == .s3 ? try S3TestServer.Proxy(["--verify-signatures"]) : nil
            let backend = try await S3TestServer.backend(endpoint: proxy?.endpoint ?? endpoint) {
                // Small parts and pages, so that the suite's large object goes up in parts
                // and its listings span pages.
                $0.multipartThresholdBytes = 6 << 20
                $0.partBytes = 5 << 20
                $0.listPageSize = 3
            }
            return (backend, proxy)
        }
        switch self {
        case .local:
            return BackendHarness(try LocalDirectoryBackend(path: root, create: true), scratch: scratch, localRoot: root)
        case .removableMedia:
            return BackendHarness(try RemovableMediaBackend(path: root, create: true), scratch: scratch, localRoot: root)
        case .retryingLocal:
            return BackendHarness(RetryingBackend(try LocalDirectoryBackend(path: root, create: true)), scratch: scratch, localRoot: root)
        case .packCachingLocal:
            return BackendHarness(PackCachingBackend(try LocalDirectoryBackend(path: root, create: true)), scratch: scratch, localRoot: root)
        case .s3:
            let (backend, proxy) = try await s3()
            return BackendHarness(backend, scratch: scratch, s3: backend, keepAlive: proxy)
        case .retryingS3:
            let s3 = try await s3().0
            return BackendHarness(RetryingBackend(s3), scratch: scratch, s3: s3)
        case .packCachingS3:
            let s3 = try await s3().0
            return BackendHarness(PackCachingBackend(s3), scratch: scratch, s3: s3)
        case .rateLimitedS3:
            let s3 = try await s3().0
            return BackendHarness(RateLimitedBackend(s3, uploadBytesPerSecond: 1 << 30, downloadBytesPerSecond: 1 << 30), scratch: scratch, s3: s3)
        }
    }
}

/// A backend under test and what must live as long as it (its folder, a proxy).
struct BackendHarness {
    let backend: any StorageBackend
    let scratch: ScratchDirectory
    /// The folder the objects are files in, for backends that keep them in one.
    let localRoot: String?
    /// The bucket's backend underneath any wrapper, for keys put with the raw S3 API.
    let s3: S3Backend?
    let keepAlive: AnyObject?

    init(_ backend: any StorageBackend, scratch: ScratchDirectory, localRoot: String? = nil, s3: S3Backend? = nil, keepAlive: AnyObject? = nil) {
        self.backend = backend
        self.scratch = scratch
        self.localRoot = localRoot
        self.s3 = s3
        self.keepAlive = keepAlive
    }

    /// Puts bytes under a key relative to the location, bypassing every check of the
    /// backend: as a hostile provider (or whoever filled a medium) would.
    func plant(_ key: String, _ bytes: [UInt8] = [0x42]) async throws {
        if let s3 {
            let r = try await s3.send(.PUT, key: s3.configuration.prefix + "/" + key, headers: [("content-length", "\(bytes.count)")], body: bytes, what: "plant")
            #expect(r.status == .ok, "planting \(key): HTTP \(r.status.code)")
        } else if let localRoot {
            let path = localRoot + "/" + key
            try FileManager.default.createDirectory(atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            try FileTree.write(path, bytes)
        }
    }
}

/// An object name of each kind, as the repository names them.
enum ConformanceNames {
    static func hex(_ seed: UInt64) -> String {
        var rng = SeededBytes(seed: seed)
        return rng.bytes(32).map { String(format: "%02x", $0) }.joined()
    }

    static func one(of kind: ObjectKind, _ seed: UInt64 = 1) -> ObjectName {
        switch kind {
        case .config: return .config
        case .manifest: return .manifest
        case .wal: return try! ObjectName(.wal, String(format: "%08X/%08X%016X", 1, 1, seed))  // a valid name by its format
        default: return try! ObjectName(kind, hex(seed))  // 64 lowercase hex digits
        }
    }
}

/// Expects `body` to throw an error that `matches`; any other outcome is an issue.
func expectError<R>(
    _ matches: (any Error) -> Bool, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> R
) async {
    do {
        _ = try await body()
        Issue.record("expected an error, got none. \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
    } catch {
        #expect(matches(error), "unexpected error: \(error). \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
    }
}

func isObjectNotFound(_ error: any Error) -> Bool {
    if case StorageError.objectNotFound = error { return true }
    return false
}

func isTruncated(_ error: any Error) -> Bool {
    if case StorageError.truncated = error { return true }
    return false
}

func isTransient(_ error: any Error) -> Bool {
    if case StorageError.transient = error { return true }
    return false
}

extension ObjectInfo {
    /// What a listing must agree on; when the location last changed an object is its own.
    var nameAndSize: String { "\(name.path) \(sizeBytes)" }
}

func isAlreadyExists(_ error: any Error) -> Bool {
    if case StorageError.alreadyExists = error { return true }
    return false
}

/// The promises of ``StorageBackend`` (Storage/StorageBackend.swift), kept by every backend
/// and wrapper alike: the local ones always, the S3 ones against the S3 server the test
/// command starts. Without that server the S3 kinds are not among the arguments, and the
/// test that needs the server is reported as skipped with the reason (a failure in CI).
@Suite("Every StorageBackend keeps the storage contract", .timeLimit(.minutes(5)))
struct StorageBackendConformanceTests {
    static let kinds = BackendKind.allCases.filter { !$0.isS3 || S3TestServer.isAvailable }

    @Test(
        "the S3 backends are among those checked",
        .enabled(if: S3TestServer.isAvailable, "LIFEBOAT_TEST_S3_ENDPOINT is not set: scripts/test starts moto_server"))
    func s3Checked() {
        let s3Kinds = Self.kinds.filter(\.isS3)
        #expect(!s3Kinds.isEmpty)
    }

    @Test("a written object reads back whole, by range and with its size", arguments: Self.kinds)
    func writeAndRead(kind: BackendKind) async throws { try await ConformanceChecks.writeAndRead(kind) }

    @Test("an empty object is an object: it is listed, reads back empty and has size 0", arguments: Self.kinds)
    func emptyObject(kind: BackendKind) async throws { try await ConformanceChecks.emptyObject(kind) }

    @Test("an empty location lists nothing of any kind and has no objects", arguments: Self.kinds)
    func emptyLocation(kind: BackendKind) async throws { try await ConformanceChecks.emptyLocation(kind) }

    @Test("an object of every kind goes under its own name and is listed with its size under its kind only", arguments: Self.kinds)
    func everyKind(kind: BackendKind) async throws { try await ConformanceChecks.everyKind(kind) }

    @Test("listing returns every object written before it, across folders and pages", arguments: Self.kinds)
    func listsEverything(kind: BackendKind) async throws { try await ConformanceChecks.listsEverything(kind) }

    @Test("an existing object is never replaced: a second write fails with alreadyExists and the first bytes stay", arguments: Self.kinds)
    func noOverwrite(kind: BackendKind) async throws { try await ConformanceChecks.noOverwrite(kind) }

    @Test("locks and the manifest are replaced when the writer asks to overwrite", arguments: Self.kinds)
    func overwriteBookkeeping(kind: BackendKind) async throws { try await ConformanceChecks.overwriteBookkeeping(kind) }

    @Test("a write-once medium refuses to overwrite or delete data, and keeps it", arguments: Self.kinds.filter(\.isWriteOnce))
    func writeOnce(kind: BackendKind) async throws { try await ConformanceChecks.writeOnce(kind) }

    @Test("a missing object is objectNotFound for read, ranged read and size, and does not exist", arguments: Self.kinds)
    func missing(kind: BackendKind) async throws { try await ConformanceChecks.missing(kind) }

    @Test("a ranged read beyond the end is truncated, never short", arguments: Self.kinds)
    func shortRead(kind: BackendKind) async throws { try await ConformanceChecks.shortRead(kind) }

    @Test("a deleted object is gone from reads, sizes and listings; the others stay", arguments: Self.kinds)
    func delete(kind: BackendKind) async throws { try await ConformanceChecks.delete(kind) }

    @Test("a large object (in parts on S3) comes back whole and by ranges across its parts", arguments: Self.kinds)
    func largeObject(kind: BackendKind) async throws { try await ConformanceChecks.largeObject(kind) }

    @Test("concurrent writers of one name leave one whole object: the bytes of a writer that succeeded", arguments: Self.kinds)
    func concurrentWriters(kind: BackendKind) async throws { try await ConformanceChecks.concurrentWriters(kind) }

    @Test("a staged object written a block at a time exists only once committed, whole; one never committed leaves nothing", arguments: Self.kinds)
    func stagedObject(kind: BackendKind) async throws { try await ConformanceChecks.stagedObject(kind) }

    @Test("a writer's temporary files are not objects: never listed, and removed once stale", arguments: Self.kinds)
    func temporaries(kind: BackendKind) async throws { try await ConformanceChecks.temporaries(kind) }

    @Test("keys that are no object name of their kind are rejected with their reason, never listed as objects", arguments: Self.kinds)
    func hostileKeys(kind: BackendKind) async throws { try await ConformanceChecks.hostileKeys(kind) }

    @Test("the location is described without credentials", arguments: Self.kinds)
    func description(kind: BackendKind) async throws { try await ConformanceChecks.description(kind) }
}

/// The checks, one per promise; each makes a fresh location of the kind it is given.
enum ConformanceChecks {
    static func writeAndRead(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        var rng = SeededBytes(seed: 401)
        let bytes = rng.bytes(300_001)
        let pack = ConformanceNames.one(of: .data)
        try await h.backend.write(pack, bytes: bytes)
        #expect(try await h.backend.read(pack) == bytes)
        #expect(try await h.backend.size(of: pack) == bytes.count)
        #expect(try await h.backend.exists(pack))
        for (offset, length) in [(0, 1), (0, bytes.count), (1000, 10), (bytes.count - 1, 1), (4095, 4097), (17, 0)] {
            #expect(try await h.backend.read(pack, offset: offset, length: length) == Array(bytes[offset..<(offset + length)]), "offset \(offset) length \(length)")
        }
    }

    static func emptyObject(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        let name = ConformanceNames.one(of: .index)
        try await h.backend.write(name, bytes: [])
        #expect(try await h.backend.read(name) == [])
        #expect(try await h.backend.size(of: name) == 0)
        #expect(try await h.backend.list(.index).map(\.nameAndSize) == [ObjectInfo(name: name, sizeBytes: 0).nameAndSize])
    }

    static func emptyLocation(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        for k in ObjectKind.allCases {
            #expect(try await h.backend.list(k).isEmpty, "\(k)")
            #expect(!(try await h.backend.exists(ConformanceNames.one(of: k))), "\(k)")
        }
    }

    static func everyKind(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        var written: [ObjectKind: (ObjectName, [UInt8])] = [:]
        for (i, k) in ObjectKind.allCases.enumerated() {
            let name = ConformanceNames.one(of: k, UInt64(i + 10))
            let bytes = Array("object of kind \(k.rawValue), \(i)".utf8) + [UInt8](repeating: UInt8(i), count: i * 7)
            try await h.backend.write(name, bytes: bytes)
            written[k] = (name, bytes)
        }
        for k in ObjectKind.allCases {
            let (name, bytes) = try #require(written[k])
            #expect(try await h.backend.list(k).map(\.nameAndSize) == [ObjectInfo(name: name, sizeBytes: bytes.count).nameAndSize], "\(k)")
            #expect(try await h.backend.read(name) == bytes, "\(k)")
            #expect(try await h.backend.size(of: name) == bytes.count, "\(k)")
        }
        if let root = h.localRoot {
            // The layout of the repository format: data under two-character folders.
            let data = try #require(written[.data]?.0)
            #expect(FileManager.default.fileExists(atPath: "\(root)/data/\(data.name.prefix(2))/\(data.name)"))
            #expect(FileManager.default.fileExists(atPath: "\(root)/config"))
            #expect(FileManager.default.fileExists(atPath: "\(root)/manifest.json"))
        }
    }

    static func listsEverything(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        var expected: [ObjectKind: [ObjectInfo]] = [:]
        for kind in [ObjectKind.data, .snapshots, .wal] {
            for i in 0..<10 {
                let seed = UInt64(1000 + i)
                let name: ObjectName
                if kind == .wal {
                    name = try ObjectName(.wal, String(format: "%08X/%08X%016X", 1 + i % 2, 1 + i % 2, seed))
                } else {
                    name = try ObjectName(kind, ConformanceNames.hex(seed + (kind == .data ? 0 : 500)))
                }
                try await h.backend.write(name, bytes: [UInt8](repeating: 7, count: i))
                expected[kind, default: []].append(ObjectInfo(name: name, sizeBytes: i))
            }
        }
        for (k, infos) in expected {
            #expect(Set(try await h.backend.list(k).map(\.nameAndSize)) == Set(infos.map(\.nameAndSize)), "\(k)")
        }
    }

    static func noOverwrite(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        for k in ObjectKind.allCases {
            let name = ConformanceNames.one(of: k, 77)
            try await h.backend.write(name, bytes: [1, 2, 3])
            await expectError(isAlreadyExists) { try await h.backend.write(name, bytes: [4, 5]) }
            await expectError(isAlreadyExists) { try await h.backend.write(name, bytes: [4, 5], overwrite: false) }
            #expect(try await h.backend.read(name) == [1, 2, 3], "\(k)")
        }
    }

    static func stagedObject(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        var rng = SeededBytes(seed: 909)
        // Three aligned 1 MiB blocks (the local backend writes them past the page cache) and
        // a short, unaligned last one, as a pack's stream makes them.
        let blocks = [rng.bytes(1 << 20), rng.bytes(1 << 20), rng.bytes(1 << 20), rng.bytes(4321)]
        let whole = blocks.flatMap { $0 }
        let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { aligned.deallocate() }
        func stage(_ name: ObjectName?) async throws {
            let staged = h.backend.makeStagedObject(.data, expectedBytes: whole.count)
            var offset = 0
            for block in blocks {
                block.withUnsafeBytes { aligned.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                try staged.write(UnsafeRawBufferPointer(rebasing: aligned[0..<block.count]), at: offset)
                offset += block.count
                if let name { #expect(!(try await h.backend.exists(name)), "not an object before its commit") }
            }
            if let name { try await staged.commit(as: name) }
        }
        let name = ConformanceNames.one(of: .data, 31)
        try await stage(name)
        #expect(try await h.backend.read(name) == whole)
        #expect(try await h.backend.list(.data).map(\.nameAndSize) == [ObjectInfo(name: name, sizeBytes: whole.count).nameAndSize])
        // A second object under the name is refused at its commit, and the first stays.
        let again = h.backend.makeStagedObject(.data, expectedBytes: 3)
        try [UInt8](repeating: 9, count: 3).withUnsafeBytes { try again.write($0, at: 0) }
        await expectError(isAlreadyExists) { try await again.commit(as: name) }
        #expect(try await h.backend.read(name) == whole)
        // Written and dropped without a commit: no object, and no file left in the location.
        try await stage(nil)
        #expect(try await h.backend.list(.data).map(\.name) == [name])
        if let root = h.localRoot {
            let left = try FileManager.default.subpathsOfDirectory(atPath: root + "/data").filter { $0.contains(".tmp-") }
            #expect(left.isEmpty, "temporaries left: \(left)")
        }
    }

    static func overwriteBookkeeping(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        for name in [ConformanceNames.one(of: .locks), ObjectName.manifest] {
            try await h.backend.write(name, bytes: [1], overwrite: false)
            try await h.backend.write(name, bytes: [2, 2], overwrite: true)
            #expect(try await h.backend.read(name) == [2, 2], "\(name)")
            #expect(try await h.backend.size(of: name) == 2, "\(name)")
            // Overwriting a name that does not exist yet writes it.
            let fresh = name.kind == .locks ? ConformanceNames.one(of: .locks, 2) : name
            if fresh != name {
                try await h.backend.write(fresh, bytes: [3], overwrite: true)
                #expect(try await h.backend.read(fresh) == [3])
            }
        }
        #expect(try await h.backend.list(.locks).count == 2)
    }

    static func writeOnce(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        let name = ConformanceNames.one(of: .data)
        try await h.backend.write(name, bytes: [1])
        await expectError(isAlreadyExists) { try await h.backend.write(name, bytes: [2], overwrite: true) }
        await #expect(throws: StorageError.self) { try await h.backend.delete(name) }
        #expect(try await h.backend.read(name) == [1])
    }

    static func missing(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        for k in ObjectKind.allCases {
            let name = ConformanceNames.one(of: k, 99)
            await expectError(isObjectNotFound) { try await h.backend.read(name) }
            await expectError(isObjectNotFound) { try await h.backend.read(name, offset: 0, length: 1) }
            await expectError(isObjectNotFound) { try await h.backend.size(of: name) }
            #expect(!(try await h.backend.exists(name)), "\(k)")
        }
    }

    static func shortRead(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        let name = ConformanceNames.one(of: .data)
        try await h.backend.write(name, bytes: Array(0..<100))
        for (offset, length) in [(90, 11), (0, 101), (99, 2), (100, 1), (5000, 10)] {
            await expectError(isTruncated) { try await h.backend.read(name, offset: offset, length: length) }
        }
        #expect(try await h.backend.read(name, offset: 90, length: 10) == Array(90..<100))
    }

    static func delete(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        // Objects the medium lets go: every kind, or only locks and the manifest on write-once media.
        let deletable: [ObjectKind] = kind.isWriteOnce ? [.locks, .manifest] : ObjectKind.allCases
        for k in deletable {
            let gone = ConformanceNames.one(of: k, 5)
            try await h.backend.write(gone, bytes: [1, 2, 3, 4])
            // Read it by range first: a cache of it must not outlive the delete.
            #expect(try await h.backend.read(gone, offset: 1, length: 2) == [2, 3])
            let stays = k == .config || k == .manifest ? nil : ConformanceNames.one(of: k, 6)
            if let stays { try await h.backend.write(stays, bytes: [9]) }
            try await h.backend.delete(gone)
            await expectError(isObjectNotFound) { try await h.backend.read(gone) }
            await expectError(isObjectNotFound) { try await h.backend.read(gone, offset: 1, length: 2) }
            await expectError(isObjectNotFound) { try await h.backend.size(of: gone) }
            #expect(try await h.backend.list(k).map(\.name) == (stays.map { [$0] } ?? []), "\(k)")
            if let stays { #expect(try await h.backend.read(stays) == [9]) }
            // The name is free again.
            try await h.backend.write(gone, bytes: [5])
            #expect(try await h.backend.read(gone, offset: 0, length: 1) == [5])
        }
    }

    static func largeObject(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        var rng = SeededBytes(seed: 402)
        // 13 MiB and 3 bytes: more than two 5 MiB parts, and not a multiple of a disk block.
        let bytes = rng.bytes((13 << 20) + 3)
        let name = ConformanceNames.one(of: .data, 402)
        try await h.backend.write(name, bytes: bytes)
        #expect(try await h.backend.size(of: name) == bytes.count)
        #expect(try await h.backend.list(.data).map(\.nameAndSize) == [ObjectInfo(name: name, sizeBytes: bytes.count).nameAndSize])
        let whole = try await h.backend.read(name)
        #expect(whole.count == bytes.count)
        #expect(whole == bytes)
        for (offset, length) in [((5 << 20) - 10, 20), ((10 << 20) - 1, 2), (bytes.count - 4096, 4096), (4096, 8 << 20)] {
            #expect(try await h.backend.read(name, offset: offset, length: length) == Array(bytes[offset..<(offset + length)]), "offset \(offset)")
        }
    }

    static func concurrentWriters(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        let name = ConformanceNames.one(of: .snapshots)
        var rng = SeededBytes(seed: 403)
        let candidates = (0..<4).map { _ in rng.bytes(200_000) }
        let backend = h.backend
        let outcomes = await withTaskGroup(of: (Int, (any Error)?).self) { group in
            for (i, bytes) in candidates.enumerated() {
                group.addTask {
                    do {
                        try await backend.write(name, bytes: bytes)
                        return (i, nil)
                    } catch {
                        return (i, error)
                    }
                }
            }
            return await group.reduce(into: [(Int, (any Error)?)]()) { $0.append($1) }
        }
        let succeeded = outcomes.filter { $0.1 == nil }.map(\.0)
        #expect(!succeeded.isEmpty, "no writer succeeded: \(outcomes)")
        // A losing writer learns the name is taken; object storage may also answer a
        // transient failure (moto answers 500 to racing PUTs of one key), which promises
        // nothing was written for that writer, and which RetryingBackend retries.
        for (i, error) in outcomes {
            if let error { #expect(isAlreadyExists(error) || isTransient(error), "writer \(i): \(error)") }
        }
        let stored = try await h.backend.read(name)
        let winner = try #require(candidates.firstIndex(of: stored), "the object holds no writer's bytes (\(stored.count) bytes)")
        #expect(succeeded.contains(winner), "the object holds the bytes of writer \(winner), which failed")
        #expect(try await h.backend.list(.snapshots).map(\.name) == [name])
    }

    static func temporaries(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        let data = ConformanceNames.one(of: .data)
        try await h.backend.write(data, bytes: [1])
        try await h.backend.write(ConformanceNames.one(of: .index), bytes: [2])
        guard let root = h.localRoot else {
            // Object storage writes whole objects or nothing: there are no temporaries.
            #expect(try await h.backend.removeStaleTemporaries(olderThan: Date() + 3600) == 0)
            return
        }
        // What a writer killed mid-write leaves behind, in each kind of folder.
        let leftovers = ["\(root)/data/\(data.name.prefix(2))/.tmp-0123456789abcdef", "\(root)/index/.tmp-0123456789abcdef", "\(root)/.tmp-0123456789abcdef"]
        for path in leftovers { try FileTree.write(path, [0xAA]) }
        #expect(try await h.backend.list(.data).map(\.name) == [data])
        #expect(try await h.backend.list(.index).count == 1)
        #expect(try await h.backend.removeStaleTemporaries(olderThan: Date() - 3600) == 0, "fresh temporaries may belong to a live writer")
        #expect(try await h.backend.removeStaleTemporaries(olderThan: Date() + 3600) == leftovers.count)
        for path in leftovers { #expect(!FileManager.default.fileExists(atPath: path)) }
        #expect(try await h.backend.read(data) == [1], "objects are not temporaries")
    }

    static func hostileKeys(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        let hex = ConformanceNames.hex(600)
        // One valid object per kind, which must stay listed beside the hostile keys.
        var valid: [ObjectKind: ObjectName] = [:]
        for k in [ObjectKind.data, .index, .snapshots, .keys, .locks, .wal] {
            valid[k] = ConformanceNames.one(of: k, 601)
            try await h.backend.write(valid[k]!, bytes: [1])
        }
        var planted: [ObjectKind: [String]] = [
            .data: ["data/zz/\(hex)", "data/\(hex.prefix(2))/\(hex.uppercased())", "data/\(hex.prefix(2))/sub/\(hex)"],
            .index: ["index/NOTHEX", "index/\(hex.uppercased())", "index/\u{1b}[31mred"],
            .snapshots: ["snapshots/sub/\(hex)"],
            .locks: ["locks/prune-lock"],
            .wal: ["wal/00000001/000000020000000000000001", "wal/00000001/junk", "wal/0000000a/0000000A.history"],
        ]
        if kind.isS3 {
            // Keys no file system can hold, which only object storage lists.
            planted[.wal]! += ["wal/00000001/../../../../x", "wal/00000001/./000000010000000000000009"]
            planted[.data]! += ["data/\(hex.prefix(2))/../../../x", "data/\(hex.prefix(2))//\(hex)"]
            planted[.index]! += ["index/../config"]
        }
        for keys in planted.values {
            for key in keys { try await h.plant(key) }
        }
        for (k, keys) in planted {
            let listing = try await h.backend.listing(k)
            #expect(listing.objects.map(\.name) == [valid[k]!], "\(k): \(listing.objects)")
            let rejected = Set(listing.rejected.map(\.key))
            // A local listing rejects a folder where a file belongs as the folder, before its contents.
            for key in keys.map({ ObjectName.escaped($0.utf8) }) {
                #expect(rejected.contains { key == $0 || key.hasPrefix($0 + "/") }, "\(k): \(key) not rejected: \(rejected)")
            }
            for r in listing.rejected {
                #expect(!r.reason.isEmpty)
                #expect(r.location == h.backend.locationDescription)
                #expect(!r.description.contains("\u{1b}"), "a rejected key is printed escaped")
            }
            #expect(try await h.backend.list(k).map(\.name) == [valid[k]!])
        }
        #expect(try await h.backend.read(valid[.wal]!) == [1])
    }

    static func description(_ kind: BackendKind) async throws {
        let h = try await kind.make()
        #expect(!h.backend.locationDescription.isEmpty)
        #expect(!h.backend.locationDescription.contains("test:test"))
        if kind.isS3 { #expect(h.backend.locationDescription.hasPrefix("s3://")) }
    }
}
