import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct RestoreDbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore-db",
        abstract: "Restore a database snapshot and check it.",
        discussion: """
            SQLite (--sqlite-target): the file is written beside the target and checked there \
            (integrity_check, and its row counts against the snapshot's record) before it is \
            renamed into place; a copy that fails leaves the target untouched and exits 13. An \
            existing target (and one that is open) is replaced only with --force. \
            PostgreSQL (--pgdata): writes the base backup into a new or empty directory with its \
            backup_label, recovery.signal, and in postgresql.auto.conf a restore_command (lifeboat \
            wal fetch with this repository and password file) and at most one recovery target \
            with recovery_target_action = 'promote'. A target before the base backup's end or \
            beyond the archived WAL is refused before anything is written. 'latest' picks the \
            newest base backup that ends before the target. Recovery follows the timeline \
            production's snapshots recorded (never one that only a restored copy made) unless \
            --timeline says otherwise. The copy is one beside production: archive_mode = off, and \
            a lifeboat.side-copy file in the data directory makes 'lifeboat wal push' refuse to \
            archive from it; --as-production keeps the cluster's archive settings and writes no \
            such file, for the cluster that replaces production. Symbolic links in the snapshot \
            are never followed: one where lifeboat writes a file is replaced by the file, and \
            pg_wal and each tablespace are real folders in the data directory. --start starts \
            the cluster (its socket in the data directory's parent folder, set as \
            unix_socket_directories) and waits until recovery has finished.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var latest: LatestIntactOptions
    @OptionGroup var selection: SourceSelectionOptions

    @Argument(help: "Snapshot id (any unique prefix) or 'latest' (the newest snapshot of the kind restored).")
    var snapshot: String

    @Option(name: .long, help: "Where to write the SQLite database.")
    var sqliteTarget: String?

    @Flag(help: "SQLite: replace an existing target, even one that is open.")
    var force = false

    @Option(name: .long, help: "PostgreSQL: the data directory to create (new or empty).")
    var pgdata: String?

    @Option(name: .long, help: "PostgreSQL: recover to this time (ISO 8601, e.g. 2026-11-27T13:45:00Z; without a zone, UTC).")
    var toTime: String?

    @Option(name: .long, help: "PostgreSQL: recover to this WAL position (e.g. 0/3000060).")
    var toLsn: String?

    @Option(name: .long, help: "PostgreSQL: recover to this restore point (pg_create_restore_point).")
    var toName: String?

    @Flag(help: "PostgreSQL: stop recovery as soon as the copy is consistent.")
    var immediate = false

    @Option(name: .long, help: "PostgreSQL: recovery_target_timeline (latest, current or a number; default: the timeline production's snapshots recorded).")
    var timeline: String?

    @Flag(help: "PostgreSQL: the restored cluster replaces production: keep its archive settings (it archives its new timeline into the repository) and write no side-copy marker.")
    var asProduction = false

    @Flag(help: "PostgreSQL: archiving off in the restored cluster (the default; kept for scripts).")
    var noArchiving = false

    @Flag(help: "PostgreSQL: start the restored cluster and wait until recovery has finished.")
    var start = false

    @Option(name: .long, help: "PostgreSQL: the port for --start (default 5432).")
    var port: Int = 5432

    @Option(name: .long, help: "PostgreSQL: seconds to wait for recovery with --start (default 3600).")
    var recoveryTimeout: Int = 3600

    func validate() throws {
        guard (sqliteTarget == nil) != (pgdata == nil) else { throw ValidationError("give exactly one of --sqlite-target or --pgdata") }
        let targets = [toTime != nil, toLsn != nil, toName != nil, immediate].filter { $0 }.count
        if targets > 0 && pgdata == nil { throw ValidationError("recovery targets go with --pgdata") }
        if targets > 1 { throw ValidationError("give at most one of --to-time, --to-lsn, --to-name, --immediate") }
        if let toLsn, LSN(toLsn) == nil { throw ValidationError("--to-lsn \(toLsn) is not a WAL position like 0/3000060") }
        if let toTime, Self.parseTime(toTime) == nil { throw ValidationError("--to-time \(toTime) is not a time like 2026-11-27T13:45:00Z") }
        if start && pgdata == nil { throw ValidationError("--start goes with --pgdata") }
        if !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535") }
        if let timeline, timeline != "latest", timeline != "current", (UInt32(timeline) ?? 0) == 0 {
            throw ValidationError("--timeline \(timeline) is not latest, current or a timeline number")
        }
        if asProduction && noArchiving { throw ValidationError("--as-production keeps archiving: it does not go with --no-archiving") }
        if (asProduction || noArchiving || timeline != nil) && pgdata == nil { throw ValidationError("--timeline, --as-production and --no-archiving go with --pgdata") }
    }

    func run() async throws {
        let repo = try await repository.open()
        if let pgdata { return try await restorePostgreSQL(repo, into: pgdata) }
        try await latest.warnSkipped(snapshot, in: repo)
        let entry = try await PointInTimeBase.resolve(snapshot, kind: .sqlite, in: repo, latestIntact: latest.latestIntact, matching: selection.filter)
        try selection.check(entry)
        let result = try await DatabaseRestorer(repository: repo).restoreSQLite(entry, to: sqliteTarget!, force: force)
        if output.json {
            try JSONOutput.print(
                RestoreDbJSON(
                    snapshotId: entry.id.hex, target: result.target, bytesWritten: result.bytesWritten, integrityCheck: result.facts.checkResult,
                    tableRows: result.facts.tableRows, durationSeconds: result.durationSeconds))
        } else {
            print("restored \(entry.snapshot.source.name ?? "?") from snapshot \(entry.id.shortHex) to \(result.target): \(ByteFormat.string(result.bytesWritten)), integrity_check ok, row counts of \(result.facts.tableRows.count) tables match")
        }
    }

    private var recoveryTarget: PostgreSQLRestorer.RecoveryTarget {
        if let toTime, let t = Self.parseTime(toTime) { return .time(t) }
        if let toLsn, let l = LSN(toLsn) { return .lsn(l) }
        if let toName { return .name(toName) }
        return immediate ? .immediate : .endOfArchive
    }

    private func restorePostgreSQL(_ repo: Repository, into pgdata: String) async throws {
        let target = recoveryTarget
        try await latest.warnSkipped(snapshot, in: repo)
        let entry =
            snapshot == "latest"
            ? try await PointInTimeBase.choose(in: repo, for: target, latestIntact: latest.latestIntact, matching: selection.filter)
            : try await repo.findSnapshot(snapshot)
        try selection.check(entry)
        let walFetch = try repository.walRestoreCommand()
        var options = PostgreSQLRestorer.Options(dataDirectory: WalRestoreCommand.absolute(pgdata), restoreCommand: walFetch.restoreCommand)
        options.serverEnvironment = walFetch.serverEnvironment(from: repository.environment)
        options.target = target
        options.timeline = timeline
        options.isProduction = asProduction
        options.startPort = start ? port : nil
        options.recoveryTimeout = .seconds(recoveryTimeout)
        let display = ProgressDisplay(verb: "restore-db", mode: progress.mode(json: output.json))
        let result = try await display.show { meter in
            var options = options
            options.progress = meter
            meter?.start("restoring the base backup", items: nil, bytes: entry.snapshot.statistics.totalFileBytes)
            return try await PostgreSQLRestorer(repository: repo).restore(entry, options: options)
        }
        for link in result.replacedLinks {
            FileHandle.standardError.write(Data("lifeboat: warning: the snapshot holds the link \(link), replaced by a folder or file of lifeboat's and not followed\n".utf8))
        }
        if output.json {
            try JSONOutput.print(
                RestorePgJSON(
                    snapshotId: entry.id.hex, baseSnapshotId: result.base.id.hex, pgdata: options.dataDirectory, target: result.target.description,
                    timeline: result.timeline, asProduction: asProduction, filesRestored: result.restore.filesRestored,
                    bytesWritten: result.restore.bytesWritten, restoreSeconds: result.restoreSeconds, started: result.server != nil,
                    port: result.server != nil ? port : nil, recoverySeconds: result.recoverySeconds, replacedLinks: result.replacedLinks))
        } else {
            print(
                "restored base backup \(result.base.id.shortHex) into \(options.dataDirectory): \(result.restore.filesRestored) files, \(ByteFormat.string(result.restore.bytesWritten)) in \(String(format: "%.1f", result.restoreSeconds)) s; recovery to \(result.target) on timeline \(result.timeline)")
            if !asProduction {
                print("a copy beside production: archiving is off, and \(SideCopyMarker.fileName) in the data directory keeps 'lifeboat wal push' from archiving from it")
            }
            if let seconds = result.recoverySeconds {
                print("started on port \(port); recovery finished and the cluster was promoted in \(String(format: "%.1f", seconds)) s")
            } else {
                print("start it with: pg_ctl -D \(options.dataDirectory) start")
            }
        }
    }

    /// ISO 8601 with `T` or a space, optional fractions, `Z`, `±hh:mm` or no zone (UTC).
    static func parseTime(_ text: String) -> Date? {
        var s = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "T")
        let hasZone = s.hasSuffix("Z") || s.range(of: #"[+-]\d\d(:?\d\d)?$"#, options: .regularExpression) != nil
        if !hasZone { s += "Z" }
        // The fraction is read here, every digit of it: the formatter keeps milliseconds only,
        // and recovery_target_time takes microseconds.
        var fraction = 0.0
        if let range = s.range(of: #"\.\d+"#, options: .regularExpression) {
            fraction = Double("0" + s[range]) ?? 0
            s.removeSubrange(range)
        }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s).map { $0.addingTimeInterval(fraction) }
    }
}

struct RestoreDbJSON: Encodable {
    let snapshotId: String
    let target: String
    let bytesWritten: Int64
    let integrityCheck: String
    let tableRows: [String: Int64]
    let durationSeconds: Double
}

struct RestorePgJSON: Encodable {
    let snapshotId: String
    let baseSnapshotId: String
    let pgdata: String
    let target: String
    let timeline: UInt32
    let asProduction: Bool
    let filesRestored: Int
    let bytesWritten: Int64
    let restoreSeconds: Double
    let started: Bool
    let port: Int?
    let recoverySeconds: Double?
    let replacedLinks: [String]
}
