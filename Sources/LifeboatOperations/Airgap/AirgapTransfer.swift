import Foundation
import LifeboatCore

/// The AIR_GAPPED copy's three moves: export a self-contained bundle (under a shared lock,
/// so prune cannot remove what it carries), verify one offline (without the passphrase, or
/// with it every blob), and import one back only after it verified clean.
public struct AirgapTransfer: Sendable {
    public let requester: Requester

    /// Transfers recorded as made by `requester` (locks, manifests).
    public init(requester: Requester) {
        self.requester = requester
    }

    /// Writes the snapshots named (all when `snapshots` is empty) into a bundle at `directory`.
    /// - Parameter snapshots: ids or unique prefixes.
    public func export(
        _ repository: Repository, snapshots: [String], to directory: String, label: String, progress: ProgressMeter? = nil
    ) async throws -> AirgapBundle.ExportReport {
        var ids: [SnapshotID]?
        if !snapshots.isEmpty {
            var chosen: [SnapshotID] = []
            for s in snapshots { chosen.append(try await repository.findSnapshot(s).id) }
            ids = chosen
        }
        let bundle = try LocalDirectoryBackend(path: directory, create: true)
        let chosen = ids
        return try await RepositoryLock.withLock(repository, exclusive: false, host: requester.host, username: requester.username) {
            var bundler = AirgapBundle(repository: repository)
            bundler.progress = progress
            return try await bundler.export(to: bundle, snapshots: chosen, label: label)
        }
    }

    /// Checks a bundle or medium: every object against its name and manifest; with a
    /// passphrase, also unlocks it and reads and authenticates every blob.
    public static func verify(_ directory: String, passphrase: String?) async throws -> CheckReport {
        let bundle = try LocalDirectoryBackend(path: directory)
        var report = try await AirgapBundle.verifyWithoutKey(bundle)
        guard let passphrase else { return report }
        let repository = try await Repository.open(backend: bundle, passphrase: passphrase)
        let deep = try await Checker(repository: repository).check(readData: true)
        report.errors.append(contentsOf: deep.errors)
        report.warnings.append(contentsOf: deep.warnings)
        report.packsChecked = deep.packsChecked
        report.blobsChecked = deep.blobsChecked
        report.snapshotsChecked = deep.snapshotsChecked
        return report
    }

    /// Copies a bundle's objects into `destination`, once the bundle verified clean and the
    /// passphrase unlocked it (so nothing is written from a damaged or foreign bundle).
    /// - Throws: ``AirgapError/damaged(_:errors:)`` with nothing imported.
    public static func importBundle(_ directory: String, passphrase: String, into destination: any StorageBackend) async throws -> Replicator.Report {
        let bundle = try LocalDirectoryBackend(path: directory)
        let check = try await AirgapBundle.verifyWithoutKey(bundle)
        guard check.isOK else { throw AirgapError.damaged(directory, errors: check.errors) }
        _ = try await Repository.open(backend: bundle, passphrase: passphrase)
        return try await Replicator(source: bundle, destination: destination).replicate()
    }
}

/// A bundle that cannot be imported.
public enum AirgapError: Error, Sendable, CustomStringConvertible {
    case damaged(String, errors: [String])

    public var description: String {
        switch self {
        case .damaged(let directory, let errors):
            return "the bundle in \(directory) is damaged: nothing was imported (\(errors.prefix(3).joined(separator: "; "))\(errors.count > 3 ? "; …" : ""))"
        }
    }
}
