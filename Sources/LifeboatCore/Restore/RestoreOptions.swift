#if canImport(Glibc)
import Glibc
#endif

/// Where and what to restore; plain values filled in by the CLI.
public struct RestoreOptions: Sendable {
    /// Each snapshot path `/a/b` is restored as `<target>/a/b`.
    public var target: String
    /// Glob patterns over snapshot paths (`/data/*.db`) or names (`*.db`); empty restores all.
    /// A matching directory is restored with everything below it.
    public var includes: [String] = []
    /// Glob patterns as `includes`; a matching entry is not restored, nor anything below it,
    /// even when an include matches.
    public var excludes: [String] = []
    /// Read every restored file back and compare it with the snapshot's blob ids.
    public var verify = false
    /// Leave runs of zero bytes as holes.
    public var sparse = true
    /// chown to the recorded owner; only root may.
    public var restoreOwnership = geteuid() == 0
    public var fileWorkers = 4
    /// What happens to a file the target already holds under a restored name.
    /// `always` here, as the engine's own restores (a sandbox, a data directory) need; `lifeboat
    /// restore` asks for `never` unless told otherwise.
    public var overwrite = OverwritePolicy.always
    /// Counts the files (and their bytes) as they are restored, for a progress display.
    public var progress: ProgressMeter?

    /// What a restore does with an entry the target already holds where the snapshot has one.
    public enum OverwritePolicy: String, Sendable, CaseIterable {
        /// Leave it as it is (a locally edited file is never lost); one that differs from
        /// the snapshot is reported as kept.
        case never
        /// Replace it only when its content differs from the snapshot's (read and compared
        /// blob by blob); the same content is left untouched.
        case ifChanged = "if-changed"
        /// Replace it, whatever it holds.
        case always
    }

    public init(target: String) {
        self.target = target
    }
}

/// What a restore did, and what it could not do.
public struct RestoreResult: Sendable {
    public var filesRestored = 0
    public var directoriesRestored = 0
    public var otherEntriesRestored = 0
    public var bytesWritten: Int64 = 0
    public var filesVerified = 0
    /// Files whose restored bytes did not match the snapshot when read back (`verify`).
    public var verificationFailures = 0
    /// Files not restored because their content in the repository is damaged or missing.
    public var damagedFiles: [String] = []
    /// Everything else that went wrong (a name that could not be created, an owner that could not be set).
    public var errors: [String] = []
    /// Paths on disk that held something other than the snapshot's entry and were left as
    /// they were (``RestoreOptions/OverwritePolicy/never``): not restored.
    public var keptFiles: [String] = []
    /// Files the target already held with the snapshot's content, left untouched.
    public var filesUnchanged = 0

    public var isComplete: Bool { damagedFiles.isEmpty && errors.isEmpty && keptFiles.isEmpty }
}
