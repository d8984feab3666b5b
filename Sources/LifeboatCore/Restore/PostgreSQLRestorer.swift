import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Restores a PostgreSQL base backup into a data directory, set up to recover from the
/// archived WAL to a chosen target, and optionally starts it and waits until recovery ends.
///
/// The target is checked before a byte is written: it must lie after the end of the base
/// backup (before it, the copy is not yet consistent) and within the archive (beyond it,
/// PostgreSQL would stop short and refuse to start). The data directory gets the files,
/// the exact `backup_label` and `tablespace_map`, `recovery.signal`, and in
/// `postgresql.auto.conf` a `restore_command`, exactly one recovery target and
/// `recovery_target_action = 'promote'`.
public struct PostgreSQLRestorer: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    public enum RecoveryTarget: Sendable, Equatable, CustomStringConvertible {
        /// Replay everything archived (PostgreSQL's default).
        case endOfArchive
        /// Stop as soon as the copy is consistent.
        case immediate
        case time(Date)
        case lsn(LSN)
        /// A restore point made with `pg_create_restore_point`.
        case name(String)

        public var description: String {
            switch self {
            case .endOfArchive: return "the end of the archive"
            case .immediate: return "consistency (immediate)"
            case .time(let t): return "time \(PostgreSQLRestorer.timestamp(t))"
            case .lsn(let l): return "LSN \(l)"
            case .name(let n): return "restore point '\(n)'"
            }
        }
    }

    public struct Options: Sendable {
        public var dataDirectory: String
        public var target: RecoveryTarget = .endOfArchive
        /// The `restore_command` for a data directory, with `%f` and `%p` (a `lifeboat wal
        /// fetch` line, which may keep its read-ahead inside that directory).
        public var restoreCommand: @Sendable (String) -> String
        /// Keep the cluster's archive settings (it will archive a new timeline after
        /// promotion) or turn archiving off (scratch clusters, restoration tests).
        public var keepsArchiving = true
        /// `recovery_target_timeline`; nil leaves PostgreSQL's default (`latest`).
        public var timeline: String?
        /// Start the server on this port and wait until recovery ends.
        public var startPort: Int?
        /// Where the started server puts its socket; nil is the data directory's parent.
        public var socketDirectory: String?
        public var recoveryTimeout: Duration = .seconds(3600)
        /// Added to the started server's environment for its `restore_command` (an S3
        /// location's credentials); nothing of this process's environment is passed on.
        public var serverEnvironment: [String: String] = [:]

        public init(dataDirectory: String, restoreCommand: @escaping @Sendable (String) -> String) {
            self.dataDirectory = dataDirectory
            self.restoreCommand = restoreCommand
        }
    }

    public struct Result: Sendable {
        public let base: SnapshotEntry
        public let target: RecoveryTarget
        public let restore: RestoreResult
        /// Seconds to write the data directory, and (when started) to finish recovery.
        public let restoreSeconds: Double
        public let recoverySeconds: Double?
        public let server: PostgreSQLServer?
        public let logFile: String?
    }

    /// - Parameter entry: a base backup, or a TRANSACTION_LOG snapshot (its base backup is
    ///   restored and, unless another target is given, recovered to its restore point).
    public func restore(_ entry: SnapshotEntry, options: Options) async throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        guard entry.snapshot.source.kind == .postgres, let facts = entry.snapshot.postgres else {
            throw PostgreSQLSourceError.notAPostgreSQLSnapshot(entry.id.shortHex)
        }
        var target = options.target
        var base = entry
        if entry.snapshot.type == .transactionLog {
            guard let parent = entry.snapshot.parent else { throw PostgreSQLSourceError.noBaseBackup(facts.dataDirectory) }
            base = SnapshotEntry(id: parent, snapshot: try await repository.loadSnapshot(parent))
            if target == .endOfArchive { target = facts.restorePoint.map { .name($0) } ?? .lsn(facts.stopLSN) }
        }
        guard let baseFacts = base.snapshot.postgres, let label = baseFacts.backupLabel else {
            throw PostgreSQLSourceError.notAPostgreSQLSnapshot(base.id.shortHex)
        }
        try await checkTarget(target, base: baseFacts)

        let dir = options.dataDirectory
        try Self.prepareEmptyDirectory(dir)
        let index = try await repository.loadIndex()
        let node = try await repository.node(at: baseFacts.dataDirectory, in: base.snapshot.tree, index: index)
        guard let subtree = node.subtree else { throw PostgreSQLSourceError.notAPostgreSQLSnapshot(base.id.shortHex) }
        let restored = try await Restorer(repository: repository).restore(tree: subtree, options: RestoreOptions(target: dir), index: index)
        guard restored.isComplete else {
            throw RestoreDatabaseError.incomplete(dir, (restored.damagedFiles + restored.errors).prefix(3).joined(separator: "; "))
        }
        // The directory itself was made by this process: as root, give it to the owner the
        // snapshot recorded (PostgreSQL runs as that user and insists on owning it).
        if geteuid() == 0 { chown(dir, uid_t(node.uid), gid_t(node.gid)) }

        var files: [(String, String)] = [("backup_label", label), ("recovery.signal", "")]
        if let map = baseFacts.tablespaceMap { files.append(("tablespace_map", map)) }
        var conf = "\n# lifeboat restore-db \(ISO8601.format(Date())): snapshot \(base.id.hex), recovery to \(target)\n"
        conf += "restore_command = \(Self.quote(options.restoreCommand(dir)))\n"
        switch target {
        case .endOfArchive: break
        case .immediate: conf += "recovery_target = 'immediate'\n"
        case .time(let t): conf += "recovery_target_time = \(Self.quote(Self.timestamp(t)))\n"
        case .lsn(let l): conf += "recovery_target_lsn = \(Self.quote(l.description))\n"
        case .name(let n): conf += "recovery_target_name = \(Self.quote(n))\n"
        }
        if target != .endOfArchive { conf += "recovery_target_action = 'promote'\n" }
        if let timeline = options.timeline { conf += "recovery_target_timeline = \(Self.quote(timeline))\n" }
        if !options.keepsArchiving { conf += "archive_mode = 'off'\n" }
        let autoConf = dir + "/postgresql.auto.conf"
        let existing = (try? String(contentsOfFile: autoConf, encoding: .utf8)) ?? ""
        files.append(("postgresql.auto.conf", existing + conf))
        for (name, text) in files {
            try Self.writeFile(dir + "/" + name, text, ownerLike: dir)
        }
        chmod(dir, 0o700)
        sync()
        let restoreSeconds = (clock.now - started).seconds

        guard let port = options.startPort else {
            return Result(base: base, target: target, restore: restored, restoreSeconds: restoreSeconds, recoverySeconds: nil, server: nil, logFile: nil)
        }
        var server = try PostgreSQLServer(dataDirectory: dir)
        server.environment.merge(options.serverEnvironment) { _, added in added }
        let log = dir + "/lifeboat-recovery.log"
        try Self.writeFile(log, "", ownerLike: dir)
        let recoveryStart = clock.now
        let socketDirectory = options.socketDirectory ?? (dir as NSString).deletingLastPathComponent
        try await server.start(port: port, socketDirectory: socketDirectory, logFile: log)
        do {
            try await server.waitForRecovery(logFile: log, timeout: options.recoveryTimeout)
        } catch {
            try? await server.stop(mode: "immediate")  // already failing; the recovery error is the one to report
            throw error
        }
        // Segments fetched ahead that recovery did not need (past the target).
        try? FileManager.default.removeItem(atPath: dir + "/pg_wal/" + Self.prefetchFolder)  // absent when nothing was fetched ahead
        return Result(
            base: base, target: target, restore: restored, restoreSeconds: restoreSeconds,
            recoverySeconds: (clock.now - recoveryStart).seconds, server: server, logFile: log)
    }

    /// Where `lifeboat wal fetch --prefetch` keeps segments fetched ahead, inside pg_wal
    /// (whose contents no base backup includes).
    public static let prefetchFolder = "lifeboat-prefetch"

    /// The target must lie after the base backup's end and within the archived WAL.
    func checkTarget(_ target: RecoveryTarget, base: PostgreSQLFacts) async throws {
        let archive = WalArchive(repository: repository)
        let entries = try await archive.list()
        let segmentBytes = base.walSegmentBytes
        var present: [UInt64: WalFileName] = [:]
        for e in entries where e.file.timeline >= base.timeline {
            if let n = e.file.segmentNumber(segmentBytes: segmentBytes) { present[n] = max(present[n] ?? e.file, e.file) }
        }
        // The archive as a restore sees it: contiguous from the backup's first segment.
        var segment = base.startLSN.value / segmentBytes
        guard present[segment] != nil else {
            throw PostgreSQLSourceError.walNotArchived(missing: [base.startWal], location: repository.location)
        }
        while present[segment + 1] != nil { segment += 1 }
        let archiveEnd = LSN((segment + 1) * segmentBytes)
        guard archiveEnd >= base.stopLSN else {
            throw PostgreSQLSourceError.walNotArchived(
                missing: [WalFileName(timeline: base.timeline, segmentNumber: segment + 1, segmentBytes: segmentBytes).name],
                location: repository.location)
        }
        switch target {
        case .lsn(let l):
            guard l >= base.stopLSN else { throw PostgreSQLSourceError.targetBeforeBackupEnd(target.description, backupEnd: "LSN \(base.stopLSN)") }
            guard l <= archiveEnd else { throw PostgreSQLSourceError.targetBeyondArchive(target.description, archiveEnd: "LSN \(archiveEnd)") }
        case .time(let t):
            guard t >= base.stopTime else {
                throw PostgreSQLSourceError.targetBeforeBackupEnd(target.description, backupEnd: Self.timestamp(base.stopTime))
            }
            // A segment is archived once it is full or switched: what it holds happened
            // before it was pushed, and nothing after the newest push is archived yet.
            let newest = try await archive.read(present[segment]!).pushed
            guard t <= newest else {
                throw PostgreSQLSourceError.targetBeyondArchive(target.description, archiveEnd: "the newest segment, archived at \(Self.timestamp(newest))")
            }
        case .endOfArchive, .immediate, .name:
            break
        }
    }

    static func prepareEmptyDirectory(_ dir: String) throws {
        var st = stat()
        if stat(dir, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFDIR, (try FileManager.default.contentsOfDirectory(atPath: dir)).isEmpty else {
                throw PostgreSQLSourceError.targetNotEmpty(dir)
            }
        } else {
            guard mkdir(dir, 0o700) == 0 else { throw FileSystemError("mkdir", RawPath(dir), errno: errno) }
        }
    }

    /// Writes a small file durably, owned like `ownerLike` (the restored directory, whose
    /// owner the restore set from the snapshot when running as root).
    static func writeFile(_ path: String, _ text: String, ownerLike: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSystemError("open", RawPath(path), errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        if let e = bytes.withUnsafeBytes({ DurableFile.writeAll(fd, $0, at: 0) }) { throw FileSystemError("write", RawPath(path), errno: e) }
        guard fsync(fd) == 0 else { throw FileSystemError("fsync", RawPath(path), errno: errno) }
        var st = stat()
        if geteuid() == 0 && stat(ownerLike, &st) == 0 { fchown(fd, st.st_uid, st.st_gid) }
    }

    /// A string literal for postgresql.conf: single quotes, with `'` doubled.
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    /// `2026-11-27 13:45:01.123456+00`, as `recovery_target_time` reads it.
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        let micros = Int(((seconds - Double(whole)) * 1_000_000).rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour),
            Int(parts.tm_min), Int(parts.tm_sec), micros)
    }

}

/// A database restore that could not write everything.
public enum RestoreDatabaseError: Error, Sendable, CustomStringConvertible {
    case incomplete(String, String)

    public var description: String {
        switch self {
        case .incomplete(let dir, let problems):
            return "the restore into \(dir) is incomplete (\(problems)): the cluster was not started; check the repository reading all its data"
        }
    }
}
