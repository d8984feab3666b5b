#if canImport(Glibc)
import Glibc
#endif

/// Which entries of a snapshot a restore takes: `includes` and `excludes` as globs over
/// snapshot paths (a pattern with a `/`) or names.
extension RestoreOptions {
    /// Whether `pattern` matches the entry at `snapshotPath` named `name`.
    private static func matches(_ pattern: String, _ snapshotPath: String, name: String) -> Bool {
        ShellPattern.matches(pattern, pattern.contains("/") ? snapshotPath : name)
    }

    func isIncluded(_ snapshotPath: String, name: String) -> Bool {
        includes.contains { Self.matches($0, snapshotPath, name: name) }
    }

    /// An excluded entry is skipped with everything below it, whatever the includes say.
    func isExcluded(_ snapshotPath: String, name: String) -> Bool {
        excludes.contains { Self.matches($0, snapshotPath, name: name) }
    }

    /// Whether an include pattern could match something below this directory.
    func hasIncludeBelow(_ snapshotPath: String) -> Bool {
        includes.contains { pattern in
            // A pattern on names can match anywhere; one on paths only where its prefix matches.
            guard pattern.contains("/") else { return true }
            let depth = snapshotPath.split(separator: "/").count
            let prefix = "/" + pattern.split(separator: "/", omittingEmptySubsequences: true).prefix(depth).joined(separator: "/")
            return ShellPattern.matches(prefix, snapshotPath)
        }
    }
}
