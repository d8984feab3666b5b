import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("SourceBackup")
struct SourceBackupTests {
    /// A source of one folder that records its phases, and fails its finish when asked.
    struct RecordingSource: BackupSource {
        let folder: String
        let log: PhaseLog
        var failsToFinish = false
        var kind: SourceKind { .files }

        func check(_ context: BackupSourceContext) async throws -> any CheckedBackupSource {
            log.append("check")
            return Checked(folder: folder, log: log, failsToFinish: failsToFinish)
        }

        struct Checked: CheckedBackupSource {
            let folder: String
            let log: PhaseLog
            let failsToFinish: Bool
            var source: Snapshot.Source { .files }
            var paths: [String] { [folder] }
            var type: BackupType? { nil }
            var preCheck: Snapshot.CheckOutcome { Snapshot.CheckOutcome(passed: true, details: "recorded") }

            func start(after parent: Snapshot?) async throws -> BackupSourceRead {
                log.append("start")
                return .files(FileSelection(paths: [folder]))
            }

            func finish(after parent: Snapshot?) async throws -> BackupSourceCompletion {
                // Everything read must be stored by now: the packs are on disk before the finish.
                log.append(FileManager.default.fileExists(atPath: (folder as NSString).deletingLastPathComponent + "/repo/data") ? "finish after store" : "finish")
                if failsToFinish { throw BackupError.preCheckFailed("finish refused") }
                return BackupSourceCompletion()
            }

            func discard() { log.append("discard") }
        }
    }

    final class PhaseLog: @unchecked Sendable {
        // @unchecked Sendable: every access goes through the lock.
        private let lock = NSLock()
        private var entries: [String] = []
        var phases: [String] { lock.withLock { entries } }
        func append(_ phase: String) { lock.withLock { entries.append(phase) } }
    }

    @Test("every source goes check, start, finish after its files are stored, then the snapshot with its pre-check; the check's result is discarded last")
    func phasesInOrder() async throws {
        let scratch = ScratchDirectory()
        let folder = try scratch.sub("src")
        try FileTree.write(folder + "/a.txt", Array("hello".utf8))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let log = PhaseLog()
        var options = BackupOptions(paths: [], host: "h", username: "u")
        options.readsBack = true
        let result = try await SourceBackup(repository: repo).backup(RecordingSource(folder: folder, log: log), options: options)
        #expect(log.phases == ["check", "start", "finish after store", "discard"])
        #expect(result.snapshot.checks.pre?.details == "recorded")
        #expect(result.snapshot.checks.post?.details.contains("read back") == true)
        #expect(result.snapshot.paths == [folder])
        #expect(try await repo.snapshots().count == 1)
    }

    @Test("a source whose finish fails gets no snapshot, and what its check made is still discarded")
    func failedFinish() async throws {
        let scratch = ScratchDirectory()
        let folder = try scratch.sub("src")
        try FileTree.write(folder + "/a.txt", Array("hello".utf8))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let log = PhaseLog()
        var source = RecordingSource(folder: folder, log: log)
        source.failsToFinish = true
        await #expect(throws: BackupError.self) {
            try await SourceBackup(repository: repo).backup(source, options: BackupOptions(paths: [], host: "h", username: "u"))
        }
        #expect(log.phases.last == "discard")
        #expect(try await repo.snapshots().isEmpty)
    }

    @Test("paths are checked before anything is written: a missing one fails the pre-check")
    func filesPreCheck() async throws {
        let scratch = ScratchDirectory()
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let before = TestRepository.allObjects(at: scratch.path + "/repo")
        await #expect {
            try await SourceBackup(repository: repo).backup(
                FilesSource(paths: [scratch.path + "/nope"]), options: BackupOptions(paths: [], host: "h", username: "u"))
        } throws: { error in
            if case BackupError.preCheckFailed = error { return true }
            return false
        }
        #expect(TestRepository.allObjects(at: scratch.path + "/repo") == before)
    }

    @Test("an INCREMENTAL backup does not deduplicate against blobs whose packs are gone: it stores them again, warns, and its snapshot restores")
    func incrementalAfterLostPacks() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 96)
        try FileTree.write(source + "/unchanged.bin", rng.bytes(400_000))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        _ = try await TestRepository.backup(repo, [source])
        // The provider loses every pack of file content (the trees stay): the index still names them.
        let index = try await repo.loadIndex()
        var lost: [PackID] = []
        for (pack, blobs) in index.blobsByPack() where blobs.allSatisfy({ $0.type == .data }) {
            try await repo.backend.delete(ObjectName(.data, pack.hex))
            lost.append(pack)
        }
        try #require(!lost.isEmpty)
        try FileTree.write(source + "/new.txt", Array("new".utf8))

        let second = try await TestRepository.backup(repo, [source], type: .incremental)
        #expect(second.snapshot.type == .incremental)
        #expect(second.snapshot.warnings.contains { $0.contains("missing") && $0.contains(lost[0].shortHex) }, "\(second.snapshot.warnings)")
        #expect(second.snapshot.statistics.bytesAdded >= 400_000, "the unchanged file's content was stored again")
        let target = scratch.path + "/restore"
        let restored = try await Restorer(repository: repo).restore(second.snapshot, options: RestoreOptions(target: target))
        #expect(restored.isComplete, "\(restored.damagedFiles) \(restored.errors)")
        #expect(FileManager.default.contents(atPath: target + source + "/unchanged.bin") == FileManager.default.contents(atPath: source + "/unchanged.bin"))
    }

    @Test("a damaged snapshot is not passed over silently by a backup: it names it in a warning and follows the newest intact parent")
    func damagedSnapshotWarns() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        try FileTree.write(source + "/a.txt", Array("one".utf8))
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let first = try await TestRepository.backup(repo, [source])
        let second = try await TestRepository.backup(repo, [source])
        let path = scratch.path + "/repo/snapshots/" + second.snapshotID.hex
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[bytes.count - 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))

        let third = try await TestRepository.backup(repo, [source])
        #expect(third.snapshot.parent == first.snapshotID)
        #expect(third.snapshot.warnings.contains { $0.contains(second.snapshotID.shortHex) }, "\(third.snapshot.warnings)")
    }
}
