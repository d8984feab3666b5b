import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Restores a PostgreSQL base backup into a data directory, set up to recover from the
/// archived WAL to a chosen target, and optionally starts it and waits until recovery ends.
///
/// The target is checked before a byte is written: it must lie after the end of the base
/// backup (before it, the copy is not yet consistent) and within the archive along the
/// timeline recovery follows (beyond it, PostgreSQL would stop short and refuse to start).
/// The data directory gets the files, the exact `backup_label`, `recovery.signal`, and in
/// `postgresql.auto.conf` a `restore_command`, exactly one recovery target,
/// `recovery_target_action = 'promote'` and the timeline to follow: the one production's
/// snapshots recorded unless told otherwise, never a timeline only a restored copy made.
///
/// A restore is a copy beside production unless it is made production on purpose
/// (``Options/isProduction``): then `archive_mode = off` and a ``SideCopyMarker`` keep its
/// new timeline out of production's archive. Everything written into the directory goes
/// through ``RestoredDataDirectory``: a link the snapshot holds is never followed, and
/// `pg_wal` and the tablespaces are real folders inside it.
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
        /// The copy is to replace production: it keeps the cluster's archive settings (it
        /// archives its new timeline after promotion) and gets no ``SideCopyMarker``.
        /// Otherwise archiving is off and `wal push` refuses to run from it.
        public var isProduction = false
        /// `recovery_target_timeline`: `latest`, `current` or a number; nil follows the
        /// timeline production's snapshots recorded (``WalArchive/productionTimeline(from:recordedBy:)``).
        public var timeline: String?
        /// Start the server on this port and wait until recovery ends.
        public var startPort: Int?
        /// Where the server puts its socket (`unix_socket_directories` in
        /// postgresql.auto.conf); nil is the data directory's parent when started, else unset.
        public var socketDirectory: String?
        public var recoveryTimeout: Duration = .seconds(3600)
        /// Counts the base backup's files (and bytes) as they are restored, for a progress display.
        public var progress: ProgressMeter?
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
        /// The timeline recovery follows.
        public let timeline: UInt32
        /// Links of the snapshot found where a file or folder of lifeboat's goes: replaced, not followed.
        public let replacedLinks: [String]
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
        let followed = try await followedTimeline(options.timeline, base: baseFacts, entry: entry)
        try await checkTarget(target, base: baseFacts, history: followed.history)

        let dir = options.dataDirectory
        let logName = "lifeboat-recovery.log"
        let socketDirectory = options.socketDirectory ?? (options.startPort != nil ? (dir as NSString).deletingLastPathComponent : nil)
        if options.startPort != nil {
            try PostgreSQLServer.checkPassable(dir + "/" + logName)
        }
        try Self.prepareEmptyDirectory(dir)
        // Opened before the restore writes into it, and used for everything after.
        let data = try RestoredDataDirectory(path: dir)
        let index = try await repository.loadIndex()
        let node = try await repository.node(at: baseFacts.dataDirectory, in: base.snapshot.tree, index: index)
        guard let subtree = node.subtree else { throw PostgreSQLSourceError.notAPostgreSQLSnapshot(base.id.shortHex) }
        var restoreOptions = RestoreOptions(target: dir)
        restoreOptions.progress = options.progress
        let restored = try await Restorer(repository: repository).restore(tree: subtree, options: restoreOptions, index: index)
        guard restored.isComplete else {
            throw RestoreDatabaseError.incomplete(dir, (restored.damagedFiles + restored.errors).prefix(3).joined(separator: "; "))
        }
        // The directory itself was made by this process: as root, give it to the owner the
        // snapshot recorded (PostgreSQL runs as that user and insists on owning it).
        if geteuid() == 0 { try data.setOwner(uid: uid_t(node.uid), gid: gid_t(node.gid)) }
        try data.makeWalFolder()
        // The map's paths are another cluster's folders (lifeboat backs up no tablespace):
        // each gets an empty folder of its own here, and no map sends recovery there.
        let tablespaces = (baseFacts.tablespaceMap ?? "").split(whereSeparator: \.isNewline).compactMap { $0.split(separator: " ").first.map(String.init) }
        try data.makeTablespaceFolders(oids: tablespaces)
        // A base backup of a standby holds standby.signal: this copy recovers and is promoted.
        try data.remove("standby.signal")

        var files: [(String, String)] = [("backup_label", label), ("recovery.signal", "")]
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
        conf += "recovery_target_timeline = \(Self.quote(followed.setting))\n"
        if !options.isProduction { conf += "archive_mode = 'off'\n" }
        if let socketDirectory { conf += "unix_socket_directories = \(Self.quote(Self.listElement(socketDirectory)))\n" }
        files.append(("postgresql.auto.conf", (data.read("postgresql.auto.conf") ?? "") + conf))
        if options.isProduction {
            try data.remove(SideCopyMarker.fileName)
        } else {
            files.append((SideCopyMarker.fileName, SideCopyMarker.text(snapshot: base.id, date: Date())))
        }
        for (name, text) in files {
            try data.write(name, text)
        }
        try data.setMode(0o700)
        sync()
        let restoreSeconds = (clock.now - started).seconds

        guard let port = options.startPort else {
            return Result(
                base: base, target: target, restore: restored, restoreSeconds: restoreSeconds, recoverySeconds: nil, server: nil, logFile: nil,
                timeline: followed.history.timeline, replacedLinks: data.replacedLinks)
        }
        var server = try PostgreSQLServer(dataDirectory: dir)
        server.environment.merge(options.serverEnvironment) { _, added in added }
        let log = dir + "/" + logName
        try data.write(logName, "")
        let recoveryStart = clock.now
        try await server.start(port: port, logFile: log)
        do {
            try await server.waitForRecovery(logFile: log, timeout: options.recoveryTimeout)
        } catch {
            try? await server.stop(mode: "immediate")  // already failing; the recovery error is the one to report
            throw error
        }
        // Segments fetched ahead that recovery did not need (past the target).
        data.removeTree(["pg_wal", Self.prefetchFolder])
        return Result(
            base: base, target: target, restore: restored, restoreSeconds: restoreSeconds,
            recoverySeconds: (clock.now - recoveryStart).seconds, server: server, logFile: log,
            timeline: followed.history.timeline, replacedLinks: data.replacedLinks)
    }

    /// Where `lifeboat wal fetch --prefetch` keeps segments fetched ahead, inside pg_wal
    /// (whose contents no base backup includes).
    public static let prefetchFolder = "lifeboat-prefetch"

    /// The timeline recovery follows, and what `recovery_target_timeline` says for it.
    /// Unless told otherwise: a TRANSACTION_LOG snapshot's own timeline (its restore point
    /// lies on it), else the newest timeline production's snapshots recorded that runs
    /// through the base's; never PostgreSQL's `latest`, which follows whatever history
    /// file is newest, a restored copy's too.
    func followedTimeline(_ requested: String?, base: PostgreSQLFacts, entry: SnapshotEntry) async throws -> (history: TimelineHistory, setting: String) {
        let archive = WalArchive(repository: repository)
        let history: TimelineHistory
        switch requested {
        case nil:
            if entry.snapshot.type == .transactionLog, let facts = entry.snapshot.postgres {
                history = try await archive.history(of: facts.timeline)
            } else {
                history = try await archive.productionTimeline(from: base, recordedBy: try await repository.snapshots().compactMap(\.snapshot.postgres))
            }
            return (history, String(history.timeline))
        case "latest"?:
            return (try await archive.newestTimeline(from: base), "latest")
        case "current"?:
            return (try await archive.history(of: base.timeline), "current")
        case let text?:
            guard let number = UInt32(text), number > 0 else { throw PostgreSQLSourceError.timelineNotFromBase(text, baseTimeline: base.timeline) }
            history = try await archive.history(of: number)
            guard history.passes(through: base.timeline, upTo: base.stopLSN) else {
                throw PostgreSQLSourceError.timelineNotFromBase(text, baseTimeline: base.timeline)
            }
            return (history, String(number))
        }
    }

    /// The target must lie after the base backup's end and within the archived WAL, as
    /// recovery along `history` reads it: each segment from the timeline that is live there.
    func checkTarget(_ target: RecoveryTarget, base: PostgreSQLFacts, history: TimelineHistory) async throws {
        let archive = WalArchive(repository: repository)
        let segmentBytes = base.walSegmentBytes
        var archived: [UInt64: Set<UInt32>] = [:]
        for e in try await archive.list() {
            if let n = e.file.segmentNumber(segmentBytes: segmentBytes) { archived[n, default: []].insert(e.file.timeline) }
        }
        func live(_ n: UInt64) -> WalFileName {
            WalFileName(timeline: max(base.timeline, history.timeline(ofSegment: n, segmentBytes: segmentBytes)), segmentNumber: n, segmentBytes: segmentBytes)
        }
        func isPresent(_ n: UInt64) -> Bool { archived[n]?.contains(live(n).timeline) ?? false }
        // The archive as a restore sees it: contiguous from the backup's first segment.
        var segment = base.startLSN.value / segmentBytes
        guard isPresent(segment) else {
            throw PostgreSQLSourceError.walNotArchived(missing: [live(segment).name], location: repository.location)
        }
        while isPresent(segment + 1) { segment += 1 }
        let archiveEnd = LSN((segment + 1) * segmentBytes)
        guard archiveEnd >= base.stopLSN else {
            throw PostgreSQLSourceError.walNotArchived(missing: [live(segment + 1).name], location: repository.location)
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
            let newest = try await archive.read(live(segment)).pushed
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

    /// A string literal for postgresql.conf: single quotes, `'` doubled, and backslashes
    /// doubled too (the configuration parser reads backslash escapes inside quotes: a path ending
    /// in one would otherwise swallow the closing quote).
    static func quote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// One element of a list setting (`unix_socket_directories`), in double quotes with `"`
    /// doubled: a comma or a space in a path does not split it.
    static func listElement(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// `2026-11-27 13:45:01.123456+00`, as `recovery_target_time` reads it. Rounded to the
    /// nearest microsecond, PostgreSQL's precision: a Date holds a time given in microseconds
    /// only to within a fraction of one (46.159 is 46.158999…), so truncating would move the
    /// target before the time the user gave.
    static func timestamp(_ date: Date) -> String {
        let totalMicros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var whole = time_t(totalMicros.quotientAndRemainder(dividingBy: 1_000_000).quotient)
        var micros = Int(totalMicros - Int64(whole) * 1_000_000)
        if micros < 0 {  // before 1970: the remainder of a negative count
            whole -= 1
            micros += 1_000_000
        }
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
