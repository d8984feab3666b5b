import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The file that marks a data directory as a copy restored beside production: `wal push`
/// refuses to archive from it.
///
/// A restored copy has production's system identifier, so nothing in its WAL tells it
/// apart; what does is how it was made. `restore-db` (unless told the copy is to be
/// production) and every restoration test write this file into the data directory, and
/// PostgreSQL runs `archive_command` in the data directory with `%p` under `pg_wal`, so
/// `wal push` finds it. A copy whose archiving was turned back on by hand then fails to
/// archive, loudly, instead of putting a timeline of its own into production's archive.
/// Deleting the file (as its text says) is how a copy is made production on purpose.
public enum SideCopyMarker {
    public static let fileName = "lifeboat.side-copy"

    /// What the file says, to whoever finds it.
    static func text(snapshot: SnapshotID, date: Date) -> String {
        """
        This PostgreSQL cluster was restored by lifeboat restore-db from snapshot \(snapshot.hex)
        on \(ISO8601.format(date)) as a copy beside production, with archive_mode = off.
        lifeboat wal push refuses to archive from a data directory holding this file, so that
        the copy's new timeline never enters production's repository. If this cluster is
        production now, delete this file and turn archiving on (or restore with --as-production).

        """
    }

    /// The marker of the data directory a WAL file handed to `archive_command` belongs to:
    /// `%p` is `pg_wal/NAME` relative to the data directory (the command's working
    /// directory), or an absolute path in the data directory's `pg_wal`. Nil when there is none.
    public static func find(forWalFile path: String, currentDirectory: String = FileManager.default.currentDirectoryPath) -> String? {
        var candidates: [String] = []
        let absolute = path.hasPrefix("/") ? path : currentDirectory + "/" + path
        let folder = (absolute as NSString).deletingLastPathComponent
        if (folder as NSString).lastPathComponent == "pg_wal" { candidates.append((folder as NSString).deletingLastPathComponent) }
        if !path.hasPrefix("/") { candidates.append(currentDirectory) }
        for dir in candidates {
            let marker = (dir as NSString).appendingPathComponent(fileName)
            var st = stat()
            // Any entry under the name counts: a copy must not archive whatever the marker became.
            if lstat(marker, &st) == 0 { return marker }
        }
        return nil
    }
}
