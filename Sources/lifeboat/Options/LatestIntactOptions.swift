import ArgumentParser
import Foundation
import LifeboatCore

/// `--latest-intact`: what `latest` means when some snapshots are damaged. Without it a
/// damaged snapshot (which may be the newest) makes `latest` fail with exit 13, so that a
/// damaged or rolled-back newest snapshot is never replaced by an older one unnoticed.
struct LatestIntactOptions: ParsableArguments {
    @Flag(name: .long, help: "With 'latest': take the newest intact snapshot even when some are damaged (each is named in a warning).")
    var latestIntact = false

    /// Names on stderr the damaged snapshots that `reference` may skip.
    func warnSkipped(_ reference: String, in repo: Repository) async throws {
        guard latestIntact, reference == "latest" else { return }
        for d in try await repo.listSnapshots().damaged {
            FileHandle.standardError.write(Data("lifeboat: warning: skipped by --latest-intact: \(d)\n".utf8))
        }
    }

    /// Resolves `reference` as ``Repository/findSnapshot(_:latestIntact:)`` does, warning of what it skips.
    func find(_ reference: String, in repo: Repository) async throws -> SnapshotEntry {
        try await warnSkipped(reference, in: repo)
        return try await repo.findSnapshot(reference, latestIntact: latestIntact)
    }
}
