import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Restores database snapshots. SQLite: the database file is written next to the target
/// under a temporary name and fsynced, checked there (`integrity_check`, row counts
/// against the snapshot's record), and only then renamed into place.
public struct DatabaseRestorer: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    public struct Result: Sendable {
        public let target: String
        public let bytesWritten: Int64
        public let facts: DatabaseFacts
        public let durationSeconds: Double
    }

    /// - Parameter force: replace an existing file, even one that is open (its `-wal` and
    ///   `-shm` files are removed too: they belong to the old database).
    public func restoreSQLite(_ entry: SnapshotEntry, to target: String, force: Bool) async throws -> Result {
        // Writes, syncs and checks a database file: on the blocking pool (BlockingIOQueue).
        try await BlockingIOQueue.withExecutor { try await restoreSQLiteOnPool(entry, to: target, force: force) }
    }

    private func restoreSQLiteOnPool(_ entry: SnapshotEntry, to target: String, force: Bool) async throws -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        guard entry.snapshot.source.kind == .sqlite, let original = entry.snapshot.source.name else {
            throw SQLiteSourceError.notASQLiteSnapshot(entry.id.shortHex)
        }
        let fm = FileManager.default
        if fm.fileExists(atPath: target) {
            if !force { throw Self.isInUse(target) ? SQLiteSourceError.targetInUse(target) : SQLiteSourceError.targetExists(target) }
        }
        let index = try await repository.loadIndex()
        let node = try await repository.node(at: original, in: entry.snapshot.tree, index: index)

        let temporary = target + ".lifeboat-restore-\(Digest256.random().hex.prefix(8))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSystemError("open", RawPath(temporary), errno: errno) }
        var written: Int64 = 0
        do {
            for id in node.content {
                guard let location = index.location(of: id) else { throw RepositoryError.blobNotInIndex(id) }
                let plain = try await repository.loadBlob(location)
                let n = plain.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(written)) }
                guard n == plain.count else { throw FileSystemError("write", RawPath(temporary), errno: n < 0 ? errno : EIO) }
                written += Int64(n)
            }
            guard fsync(fd) == 0 else { throw FileSystemError("fsync", RawPath(temporary), errno: errno) }
            fchmod(fd, mode_t(node.mode))
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        // Checked before it takes the target's place: a copy that fails never replaces anything.
        let facts: DatabaseFacts
        do {
            facts = try SQLiteSource.facts(of: temporary, thorough: true)
            guard facts.checkResult == "ok" else { throw SQLiteSourceError.restoredCopyFailsCheck(target, facts.checkResult) }
            if let recorded = entry.snapshot.database {
                let differences = recorded.tableRows.keys.sorted().compactMap { table -> String? in
                    let now = facts.tableRows[table]
                    return now == recorded.tableRows[table] ? nil : "\(table): \(now.map(String.init) ?? "missing") rows, recorded \(recorded.tableRows[table]!)"
                }
                guard differences.isEmpty else { throw SQLiteSourceError.rowCountsDiffer(target, differences) }
            }
        } catch {
            unlink(temporary)
            throw error
        }
        // -wal, -shm and -journal files beside the target belong to the database being
        // replaced (or to none): applied to the restored one they would corrupt it.
        for suffix in ["-wal", "-shm", "-journal"] { unlink(target + suffix) }
        guard rename(temporary, target) == 0 else {
            let e = errno
            unlink(temporary)
            throw FileSystemError("rename", RawPath(target), errno: e)
        }
        let folder = (target as NSString).deletingLastPathComponent
        let dirFD = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
        let elapsed = clock.now - start
        return Result(
            target: target, bytesWritten: written, facts: facts,
            durationSeconds: elapsed.seconds)
    }

    /// Whether another process has the database open: SQLite holds POSIX locks on it
    /// while a connection has it open (WAL mode always; rollback mode during transactions),
    /// and a `-wal` file exists while a WAL-mode connection is open.
    static func isInUse(_ path: String) -> Bool {
        if FileManager.default.fileExists(atPath: path + "-wal") || FileManager.default.fileExists(atPath: path + "-shm") { return true }
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 0
        // F_GETLK reports a conflicting lock of another process without taking one.
        guard fcntl(fd, F_GETLK, &lock) == 0 else { return false }
        return lock.l_type != Int16(F_UNLCK)
    }
}
