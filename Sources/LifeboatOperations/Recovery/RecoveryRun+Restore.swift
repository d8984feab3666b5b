import Foundation
import LifeboatCatalog
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

extension RecoveryRun {
    /// RESTORE_BACKUP. A drill restores into its sandbox. EXECUTE restores into a staging
    /// path beside the target, checked there, then swapped in: what was at the target is
    /// renamed to `<target>.before-<execution id>` first (only by the first attempt that
    /// gets there; a later attempt finds it kept and replaces only its own earlier copy),
    /// so a repeated attempt never destroys production's previous state.
    func restore(_ step: RecoveryStep) async throws -> StepResult {
        let source = try executor.context.configuration.source(named: step.source ?? "")
        let (repository, entry, location) = try await snapshot(for: step, of: source)
        var log = "snapshot \(entry.id.shortHex) of \(ISO8601.format(entry.snapshot.time)) from location \(location)\n"
        switch (record.mode, source.kind) {
        case (_, .postgres):
            return try await restorePostgreSQL(step, source: source, repository: repository, entry: entry, location: location, log: log)
        case (.test, .sqlite):
            guard let sandbox else { preconditionFailure("a drill has a sandbox") }
            let file = sandbox.restoredPath(of: source)
            try FileManager.default.createDirectory(atPath: sandbox.root(of: source.name), withIntermediateDirectories: true)
            let result = try await DatabaseRestorer(repository: repository).restoreSQLite(entry, to: file, force: true)
            log += "restored into the sandbox: \(file) (\(ByteFormat.string(result.bytesWritten)), integrity_check \(result.facts.checkResult))"
        case (.test, .files):
            guard let sandbox else { preconditionFailure("a drill has a sandbox") }
            let root = sandbox.root(of: source.name)
            RecoverySandbox(path: root).remove()  // an interrupted attempt's partial copy
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let result = try await restoreVerified(entry, repository: repository, into: root)
            log += "restored into the sandbox: \(root) (\(result.filesRestored) files, read back equal to the snapshot)"
        case (.execute, .sqlite):
            let target = step.target ?? source.path ?? ""
            let staging = target + ".lifeboat-staging-" + shortID
            removeLeftovers(startingWith: staging)
            let result = try await DatabaseRestorer(repository: repository).restoreSQLite(entry, to: staging, force: true)
            let kept = try swapIn(staging, at: target, companions: ["-wal", "-shm", "-journal"])
            log += "restored \(target) (\(ByteFormat.string(result.bytesWritten)), integrity_check \(result.facts.checkResult))\(kept.map { "; the previous file is kept as \($0)" } ?? "")"
        case (.execute, .files):
            let paths = source.paths ?? []
            let targets = step.target.map { [$0] } ?? paths
            for (original, target) in zip(paths, targets) {
                let parent = (target as NSString).deletingLastPathComponent
                let staging = parent + "/.lifeboat-staging-\(shortID)-" + (target as NSString).lastPathComponent
                RecoverySandbox(path: staging).remove()  // an interrupted attempt's partial copy
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                defer { RecoverySandbox(path: staging).remove() }
                let result = try await restoreVerified(entry, repository: repository, into: staging)
                guard FileManager.default.fileExists(atPath: staging + original) else {
                    throw RecoveryError.stepFailed("snapshot \(entry.id.shortHex) holds no \(original): choose another snapshot")
                }
                let kept = try swapIn(staging + original, at: target, companions: [])
                log += "restored \(target) (\(result.filesRestored) files read back)\(kept.map { "; what was there is kept as \($0)" } ?? "")\n"
            }
        }
        return StepResult(log: log, restorePoint: entry.snapshot.time)
    }

    var shortID: String { String(id.uuidString.lowercased().prefix(8)) }

    /// An attempt killed mid-way leaves its staging file (and the restorer's temporary
    /// beside it): named after this execution, they are this execution's to remove.
    func removeLeftovers(startingWith prefix: String) {
        let folder = (prefix as NSString).deletingLastPathComponent
        let name = (prefix as NSString).lastPathComponent
        // A folder that cannot be listed has no leftover this can remove; the restore reports it.
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where entry.hasPrefix(name) {
            RecoverySandbox(path: folder + "/" + entry).remove()
        }
    }

    /// Puts `staged` at `target`. The first time, what is at `target` (and its companion
    /// files, a SQLite database's -wal and -shm) is renamed to `<target>.before-<id>`;
    /// when that is already there, what is at `target` is this execution's own earlier copy
    /// and is replaced. Returns the kept path when something was kept.
    func swapIn(_ staged: String, at target: String, companions: [String]) throws -> String? {
        let fm = FileManager.default
        let before = target + ".before-" + id.uuidString.lowercased()
        var kept: String?
        if !exists(before) {
            if exists(target) {
                try rename(target, before)
                kept = before
            }
            for suffix in companions where exists(target + suffix) { try rename(target + suffix, before + suffix) }
        } else {
            kept = before
            for suffix in companions { unlink(target + suffix) }  // our own copy's, or none
            var isFolder: ObjCBool = false
            if fm.fileExists(atPath: target, isDirectory: &isFolder), isFolder.boolValue { RecoverySandbox(path: target).remove() }
        }
        try rename(staged, target)
        return kept
    }

    private func exists(_ path: String) -> Bool {
        var s = stat()
        return lstat(path, &s) == 0
    }

    private func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw RecoveryError.stepFailed("cannot rename \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }

    private func restoreVerified(_ entry: SnapshotEntry, repository: Repository, into folder: String) async throws -> RestoreResult {
        var options = RestoreOptions(target: folder)
        options.verify = true
        let result = try await Restorer(repository: repository).restore(entry.snapshot, options: options)
        guard result.isComplete, result.verificationFailures == 0 else {
            throw RecoveryError.stepFailed(
                "the restore of snapshot \(entry.id.shortHex) is incomplete: \(result.verificationFailures) files differ, \((result.damagedFiles + result.errors).prefix(3).joined(separator: "; "))")
        }
        return result
    }

    /// The snapshot a step restores and the repository holding it: from the step's
    /// location, or the first location holding it, PRIMARY first (AIR_GAPPED bundles only
    /// when named).
    func snapshot(for step: RecoveryStep, of source: LifeboatConfiguration.Source) async throws -> (Repository, SnapshotEntry, String) {
        let config = executor.context.configuration
        let candidates =
            try step.location.map { [try config.location(named: $0)] }
            ?? (config.locations.filter { $0.role == .primary } + config.locations.filter { $0.role != .primary && $0.role != .airGapped })
        let phrase = try passphrase()
        var misses: [String] = []
        for location in candidates {
            do {
                let repository = try await executor.context.repository(in: location, passphrase: phrase)
                if let entry = try await find(step.snapshot ?? "latest", of: source, in: repository, for: step) { return (repository, entry, location.name) }
                misses.append("\(location.name): no snapshot of it")
            } catch {
                misses.append("\(location.name): \(error)")
            }
        }
        throw RecoveryError.stepFailed(
            "no \(step.snapshot ?? "latest") snapshot of source '\(source.name)' could be read (\(misses.joined(separator: "; "))): back it up with 'lifeboat run \(source.name)'")
    }

    private func find(_ reference: String, of source: LifeboatConfiguration.Source, in repository: Repository, for step: RecoveryStep) async throws -> SnapshotEntry? {
        guard reference == "latest" else { return try await repository.findSnapshot(reference) }
        if source.kind == .postgres {
            // The newest base backup of the source that ends before the point-in-time target.
            do {
                return try await PointInTimeBase.choose(in: repository, for: Self.recoveryTarget(of: step), matching: SnapshotFilter(sources: [source.name]))
            } catch RepositoryError.snapshotNotFound {
                return nil
            }
        }
        if let tagged = try await RestorationTest.newestSnapshot(of: source.name, in: repository) { return tagged }
        // Snapshots made by `backup` rather than `run` carry no source tag: match what they read.
        return try await repository.intactSnapshots(latestIntact: true).last { e in
            switch source.kind {
            case .sqlite: return e.snapshot.source.kind == .sqlite && e.snapshot.source.name == source.path
            case .files: return e.snapshot.source.kind == .files && Set(e.snapshot.paths) == Set(source.paths ?? [])
            case .postgres: return false
            }
        }
    }
}
