import Crypto
import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

/// A version-1 repository written by an earlier build is committed under Tests/Fixtures:
/// every release must still list, restore and verify it (STYLE §6).
@Suite("Format version 1 fixture")
struct FixtureRepositoryTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Expected: Decodable {
        let passphrase: String
        let snapshots: Int
        let entries: [String: Entry]
        struct Entry: Decodable {
            let type: String?
            let mode: String?
            let mtimeNs: Int64?
            let sha256: String?
            let size: Int?
            let symlink: String?
        }
    }

    @Test("the committed version-1 repository lists, restores and verifies")
    func fixture() async throws {
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("repository-v1.expected.json")))
        let scratch = ScratchDirectory("fixture")
        // Work on a copy: even a check writes a lock.
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("repository-v1").path, toPath: scratch.path + "/repo")
        let repo = try await Repository.open(backend: try LocalDirectoryBackend(path: scratch.path + "/repo"), passphrase: expected.passphrase)
        let snapshots = try await repo.snapshots()
        #expect(snapshots.count == expected.snapshots)
        #expect(try await ObjectVerifier(backend: repo.backend).verify().isOK)
        let check = try await Checker(repository: repo).check(readData: true)
        #expect(check.isOK, "\(check.errors)")

        let target = scratch.path + "/restore"
        let result = try await Restorer(repository: repo).restore(try #require(snapshots.last).snapshot, options: RestoreOptions(target: target))
        #expect(result.isComplete)
        for (path, entry) in expected.entries {
            let restored = target + path
            let status = try FileStatus.lstat(RawPath(restored))
            if let link = entry.symlink {
                #expect(try Directory.linkTarget(of: RawPath(restored)) == Array(link.utf8))
                continue
            }
            #expect(String(status.mode, radix: 8) == entry.mode, "\(path)")
            #expect(status.mtime.seconds * 1_000_000_000 + status.mtime.nanoseconds == entry.mtimeNs, "\(path)")
            if entry.type == "file" {
                let bytes = try #require(FileManager.default.contents(atPath: restored))
                #expect(bytes.count == entry.size)
                #expect(Digest256.sha256(bytes).hex == entry.sha256, "\(path)")
            }
        }
    }
}
