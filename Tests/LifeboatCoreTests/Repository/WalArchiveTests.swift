import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("WalArchive")
struct WalArchiveTests {
    /// A segment-sized file of seeded, partly compressible bytes, named like PostgreSQL's.
    static func segment(in folder: String, name: String, seed: UInt64, bytes: Int = 1 << 20) throws -> String {
        var random = SeededBytes(seed: seed)
        var content = random.bytes(bytes / 2)
        content += [UInt8](repeating: 0, count: bytes - content.count)
        let path = folder + "/" + name
        try Data(content).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a pushed segment is fetched back byte for byte, and listed under its timeline")
    func pushFetchList() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let archive = WalArchive(repository: repo)
        let path = try Self.segment(in: try scratch.sub("pg_wal"), name: "000000010000000000000003", seed: 1)
        let outcome = try await archive.push(path: path, host: "h", username: "u")
        guard case .stored = outcome else { Issue.record("expected a store, got \(outcome)"); return }
        let history = scratch.path + "/pg_wal/00000002.history"
        try "1\t0/3000000\tno recovery target specified\n".write(toFile: history, atomically: true, encoding: .utf8)
        _ = try await archive.push(path: history, host: "h", username: "u")

        let fetched = scratch.path + "/RECOVERYXLOG"
        _ = try await archive.fetch(WalFileName("000000010000000000000003")!, to: fetched)
        #expect(FileManager.default.contents(atPath: fetched) == FileManager.default.contents(atPath: path))
        let listed = try await archive.list()
        #expect(listed.map(\.file.name) == ["000000010000000000000003", "00000002.history"])
        #expect(listed.map(\.file.timeline) == [1, 2])
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/repo/wal/00000001/000000010000000000000003"))
        // Sealed: the zero half of the segment is not visible in the object.
        let stored = try #require(FileManager.default.contents(atPath: scratch.path + "/repo/wal/00000001/000000010000000000000003"))
        #expect(stored.count < 700_000)
    }

    @Test("pushing identical content again succeeds without writing; different content under the name fails and changes nothing")
    func rePush() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let archive = WalArchive(repository: repo)
        let path = try Self.segment(in: try scratch.sub("a"), name: "000000010000000000000007", seed: 2)
        _ = try await archive.push(path: path, host: "h", username: "u")
        let before = TestRepository.allObjects(at: scratch.path + "/repo").filter { !$0.key.hasPrefix("locks/") }
        #expect(try await archive.push(path: path, host: "h", username: "u") == .alreadyArchived)
        let other = try Self.segment(in: try scratch.sub("b"), name: "000000010000000000000007", seed: 3)
        await #expect(throws: WalArchiveError.self) { try await archive.push(path: other, host: "h", username: "u") }
        #expect(TestRepository.allObjects(at: scratch.path + "/repo").filter { !$0.key.hasPrefix("locks/") } == before)
    }

    @Test("fetching a name that is not archived is notArchived; a name PostgreSQL never uses is refused")
    func missingAndInvalid() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let archive = WalArchive(repository: repo)
        await #expect(throws: WalArchiveError.self) { _ = try await archive.fetch(WalFileName("000000010000000000000009")!, to: scratch.path + "/x") }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/x"))
        for bad in ["../../config", "00000001000000000000000g", "000000010000000000000009/x", "history", "0000000A.history.bak", ""] {
            #expect(WalFileName(bad) == nil, "\(bad)")
        }
        let path = scratch.path + "/not-wal"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        await #expect(throws: WalArchiveError.self) { _ = try await archive.push(path: path, host: "h", username: "u") }
    }

    @Test("an archived object moved to another segment's name is refused, not replayed")
    func movedObject() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let archive = WalArchive(repository: repo)
        _ = try await archive.push(path: try Self.segment(in: try scratch.sub("w"), name: "000000010000000000000001", seed: 4), host: "h", username: "u")
        let wal = scratch.path + "/repo/wal/00000001/"
        try FileManager.default.copyItem(atPath: wal + "000000010000000000000001", toPath: wal + "000000010000000000000002")
        await #expect(throws: RepositoryError.self) { _ = try await archive.read(WalFileName("000000010000000000000002")!) }
    }

    @Test("a prefetching fetch fills the spool with the next archived segments, and the next fetch takes them without the repository")
    func prefetch() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let archive = WalArchive(repository: repo)
        let names = (1...3).map { WalFileName(timeline: 1, segmentNumber: UInt64($0), segmentBytes: 1 << 20).name }
        for (i, name) in names.enumerated() {
            _ = try await archive.push(path: try Self.segment(in: try scratch.sub("s\(i)"), name: name, seed: UInt64(10 + i)), host: "h", username: "u")
        }
        let spool = scratch.path + "/spool"
        func spooled() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: spool).filter { WalFileName($0) != nil }.sorted() }
        // One instant for every fetch: the absences are remembered for a few seconds of the
        // clock the caller passes, and a loaded machine can take longer than that between lines.
        let now = Date()
        try await WalArchive.fetchSpooled(WalFileName(names[0])!, to: scratch.path + "/first", spool: spool, count: 8, now: now) { repo }
        #expect(try spooled() == names)
        struct NoRepository: Error {}
        try await WalArchive.fetchSpooled(WalFileName(names[1])!, to: scratch.path + "/second", spool: spool, count: 8, now: now) { throw NoRepository() }
        #expect(FileManager.default.contents(atPath: scratch.path + "/second") == FileManager.default.contents(atPath: scratch.path + "/s1/" + names[1]))
        #expect(try spooled() == [names[1], names[2]])
        // What the last look found absent (the segment after the archive's end, the next
        // timeline's history) is answered without the repository for a few seconds.
        let afterEnd = WalFileName(timeline: 1, segmentNumber: 4, segmentBytes: 1 << 20)
        for absent in [afterEnd, WalFileName("00000002.history")!] {
            await #expect(throws: WalArchiveError.self) {
                try await WalArchive.fetchSpooled(absent, to: scratch.path + "/x", spool: spool, count: 8, now: now) { throw NoRepository() }
            }
        }
        await #expect(throws: NoRepository.self) {
            try await WalArchive.fetchSpooled(afterEnd, to: scratch.path + "/x", spool: spool, count: 8, now: now + 60) { throw NoRepository() }
        }
        // A missing segment still goes to the repository, and is still "not archived".
        await #expect(throws: WalArchiveError.self) {
            try await WalArchive.fetchSpooled(WalFileName(timeline: 1, segmentNumber: 9, segmentBytes: 1 << 20), to: scratch.path + "/x", spool: spool, count: 8, now: now) { repo }
        }
        #expect(try spooled().isEmpty)
    }

    @Test("pushes share one WAL data key a day instead of making one each")
    func oneKeyPerDay() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let archive = WalArchive(repository: repo)
        let day = Date(timeIntervalSince1970: 1_800_000_000)
        for (i, offset) in [0.0, 3600, 7200, 90_000].enumerated() {
            let name = WalFileName(timeline: 1, segmentNumber: UInt64(i + 1), segmentBytes: 16 << 20).name
            _ = try await archive.push(path: try Self.segment(in: try scratch.sub("s\(i)"), name: name, seed: UInt64(i), bytes: 4096), now: day + offset, host: "h", username: "u")
        }
        let keys = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/repo/datakeys")
        #expect(keys.count == 2)
        // The keys survive a reopen (they are ordinary data keys, sealed under the master key).
        let reopened = try await TestRepository.open(at: scratch.path + "/repo")
        #expect(try await WalArchive(repository: reopened).read(WalFileName("000000010000000000000004")!).bytes.count == 4096)
    }
}

@Suite("WalFileName and LSN")
struct WalFileNameTests {
    @Test("segment names follow PostgreSQL's numbering for 16 MiB and 64 MiB segments", arguments: [
        (UInt64(16 << 20), UInt64(0x2FF), "00000001000000020000" + "00FF"),
        (UInt64(16 << 20), UInt64(0x300), "000000010000000300000000"),
        (UInt64(64 << 20), UInt64(0x41), "000000010000000100000001"),
    ])
    func numbering(segmentBytes: UInt64, number: UInt64, name: String) {
        let file = WalFileName(timeline: 1, segmentNumber: number, segmentBytes: segmentBytes)
        #expect(file.name == name)
        #expect(WalFileName(name)?.segmentNumber(segmentBytes: segmentBytes) == number)
    }

    @Test("LSNs parse, print and order like PostgreSQL's pg_lsn")
    func lsn() {
        #expect(LSN("16/B374D848")?.value == 0x16_B374_D848)
        #expect(LSN("0/3000060")?.description == "0/3000060")
        #expect(LSN("1/0")! > LSN("0/FFFFFFFF")!)
        #expect(LSN("x/1") == nil)
        #expect(LSN("1") == nil)
    }

    @Test("a WAL object declaring more bytes than it holds is damaged, not trapped on")
    func declaredLengthBeyondTheObject() throws {
        let file = try #require(WalFileName("000000010000000000000001"))
        var payload = WalArchive.magic
        payload += [UInt8(file.name.utf8.count), 0] + Array(file.name.utf8)
        payload += [UInt8](repeating: 0, count: 8)  // pushed at 1970
        for declared in [UInt64.max, 1 << 20] {
            var object = payload
            withUnsafeBytes(of: declared.littleEndian) { object.append(contentsOf: $0) }
            object += [UInt8](repeating: 0, count: 32 + 16)
            #expect(throws: RepositoryError.self) { try WalArchive.contents(ofPayload: object, file: file) }
        }
    }
}
