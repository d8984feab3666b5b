import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Restores a snapshot into a directory.
///
/// The tree is walked on the calling task; directories are made as they are met, and
/// their modes and times set last, deepest first, so that restoring their content does
/// not disturb them. Each file is written by a child task (at most `fileWorkers` at
/// once) blob by blob; every blob is authenticated before a byte of it is written, and a
/// file whose blob is damaged or missing is removed and reported, never left with wrong
/// bytes. Hardlinks are made after all files exist. Names from the snapshot are checked
/// (no `/`, `.`, `..`, NUL or duplicates), so a crafted snapshot cannot write outside
/// the target.
///
/// Everything is made relative to open directories (``DirectoryHandle``), never through
/// a full path looked up again: a directory of the target swapped for a symlink while the
/// restore runs is not followed (`O_NOFOLLOW` on every component; modes, owners and times
/// are set through descriptors or with `AT_SYMLINK_NOFOLLOW`). Where an entry may already
/// exist (a directory this run did not make), the new one is written under a hidden
/// temporary name and renamed over the old one only when complete and checked: a file
/// that cannot be restored leaves the existing one as it was.
public struct Restorer: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    /// A name that creates exactly one entry inside its directory.
    static func isSafeName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name != [0x2e] && name != [0x2e, 0x2e] && !name.contains(0x2f) && !name.contains(0)
    }

    public func restore(_ snapshot: Snapshot, options: RestoreOptions) async throws -> RestoreResult {
        try await restore(tree: snapshot.tree, options: options)
    }

    /// Restores the entries of one tree (a snapshot's root, or a directory inside it) into
    /// `options.target`.
    /// - Parameter index: the repository's index when the caller has loaded it already.
    public func restore(tree: BlobID, options: RestoreOptions, index loaded: MasterIndex? = nil) async throws -> RestoreResult {
        let target = RawPath(options.target)
        // Refused before anything is read or written: a target that is not a folder.
        var st = stat()
        if target.withCString({ stat($0, &st) }) == 0 && (st.st_mode & S_IFMT) != S_IFDIR {
            throw FileSystemError("restore", target, reason: "the restore target is not a folder: name a folder (it is made when missing)")
        }
        // Blobs name their key synchronously: every key written so far must be known.
        try await repository.refreshDataKeys()
        let index: MasterIndex
        if let loaded { index = loaded } else { index = try await repository.loadIndex() }
        // Every step of the walk creates, writes or syncs files: on the blocking pool, with its writers (BlockingIOQueue).
        return try await BlockingIOQueue.withExecutor {
            guard target.withCString({ mkdir($0, 0o755) }) == 0 || errno == EEXIST else {
                throw FileSystemError("mkdir", target, errno: errno)
            }
            // The target is the operator's: a symlink naming it is followed, once.
            let root = try DirectoryHandle.open(target)
            var walk = RestoreWalk(repository: repository, index: index, options: options, root: root)
            try await walk.run(tree: tree)
            return walk.result
        }
    }
}

