import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Paths of the local filesystem as a backup source: directory trees and single files.
///
/// The pre-backup check asks only that every path be present and readable; a file that
/// cannot be read later, during the walk, is a warning in the snapshot, not a failure.
public struct FilesSource: BackupSource {
    /// The paths to back up, as given (relative ones against the working directory).
    public var paths: [String]
    /// Glob patterns: a pattern with a `/` matches whole paths, one without matches names.
    public var excludes: [String]

    /// A source of `paths`, leaving out what `excludes` matches.
    public init(paths: [String], excludes: [String] = []) {
        self.paths = paths
        self.excludes = excludes
    }

    /// `files`.
    public var kind: SourceKind { .files }

    /// Every path is present and readable.
    /// - Throws: ``BackupError/noPaths`` without paths, ``BackupError/preCheckFailed(_:)`` naming each path that is not.
    public func check(_ context: BackupSourceContext) async throws -> any CheckedBackupSource {
        var problems: [String] = []
        for path in paths {
            var st = stat()
            if lstat(path, &st) != 0 {
                problems.append("\(path): \(String(cString: strerror(errno)))")
            } else if access(path, R_OK) != 0 {
                problems.append("\(path): not readable (\(String(cString: strerror(errno))))")
            }
        }
        guard problems.isEmpty else { throw BackupError.preCheckFailed(problems.joined(separator: "; ")) }
        let normalized = try Self.normalize(paths)
        return Checked(
            selection: FileSelection(paths: normalized, excludes: excludes),
            preCheck: Snapshot.CheckOutcome(passed: true, details: "\(paths.count) paths present and readable"))
    }

    struct Checked: CheckedBackupSource {
        let selection: FileSelection
        let preCheck: Snapshot.CheckOutcome
        var source: Snapshot.Source { .files }
        var paths: [String] { selection.paths }
        var type: BackupType? { nil }
        func start(after parent: Snapshot?) async throws -> BackupSourceRead { .files(selection) }
    }

    /// Absolute, without trailing slashes or `.`/`..` components, sorted, without duplicates.
    /// - Throws: ``BackupError/noPaths`` for none, ``BackupError/sourceNotFound(_:)`` for a path that does not exist.
    public static func normalize(_ paths: [String]) throws -> [String] {
        guard !paths.isEmpty else { throw BackupError.noPaths }
        let cwd = FileManager.default.currentDirectoryPath
        var out: [String] = []
        for p in paths {
            let absolute = p.hasPrefix("/") ? p : cwd + "/" + p
            var parts: [Substring] = []
            for c in absolute.split(separator: "/") {
                if c == "." { continue }
                if c == ".." { _ = parts.popLast(); continue }
                parts.append(c)
            }
            let clean = "/" + parts.joined(separator: "/")
            do {
                _ = try FileStatus.lstat(RawPath(clean))
            } catch let error as FileSystemError where error.errno == ENOENT {
                throw BackupError.sourceNotFound(p)
            }
            out.append(clean)
        }
        return Array(Set(out)).sorted()
    }
}
