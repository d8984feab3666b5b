import Foundation

/// What a PostgreSQL backup records about the cluster (DESIGN §4): where in the WAL it
/// starts and stops, on which timeline, of which cluster, and the `backup_label` and
/// `tablespace_map` exactly as `pg_backup_stop` returned them.
///
/// A TRANSACTION_LOG snapshot uses the same record for the WAL range it proves archived:
/// from its base backup's start to the segment it switched, with no label.
public struct PostgreSQLFacts: Codable, Sendable, Equatable {
    /// The cluster's system identifier (`pg_control_system`).
    public var systemIdentifier: String
    /// `server_version`.
    public var serverVersion: String
    /// The data directory read (real path).
    public var dataDirectory: String
    /// The timeline of `startLSN` (base) or the current one (TRANSACTION_LOG).
    public var timeline: UInt32
    /// `wal_segment_size`.
    public var walSegmentBytes: UInt64
    /// Where WAL replay starts.
    public var startLSN: LSN
    /// Where a restore of the snapshot is consistent at the earliest.
    public var stopLSN: LSN
    /// The first and last WAL segment the snapshot needs (base backups) or covers (TRANSACTION_LOG).
    public var startWal: String
    /// The last segment needed or covered.
    public var stopWal: String
    /// When `pg_backup_stop` returned, or the WAL switch happened: the earliest time a
    /// restore of this snapshot can reach.
    public var stopTime: Date
    /// `pg_backup_stop`'s `labelfile`, byte for byte (base backups).
    public var backupLabel: String?
    /// `pg_backup_stop`'s `spcmapfile`, when not empty.
    public var tablespaceMap: String?
    /// Whether the cluster has data checksums on.
    public var dataChecksums: Bool
    /// TRANSACTION_LOG: the restore point written just before the WAL switch, inside the
    /// archived range; restoring the snapshot recovers to it.
    public var restorePoint: String?
}

/// A running PostgreSQL cluster as a backup source: its connection URL and, on this
/// host, its data directory.
///
/// A base backup is non-exclusive: `pg_backup_start` and `pg_backup_stop` in one session
/// (``PostgreSQLConnection``) while the data directory is read as files. Files change and
/// vanish meanwhile; replaying the WAL from the start to the stop position makes the copy
/// consistent, which is why a backup is only complete when that WAL is archived too.
public struct PostgreSQLSource: Sendable {
    /// The libpq connection URL, without a password (that travels in `password`, or comes from `.pgpass`).
    public let url: String
    /// Sent with the connection (never through the environment); nil: libpq's own ways
    /// (`.pgpass`, peer or trust authentication).
    public var password: String?
    /// Indexes to check with amcheck's `bt_index_check` before the backup.
    public var amcheckIndexes: [String] = []
    /// The data directory on this host; nil takes the server's `data_directory`.
    public var dataDirectory: String?
    /// How `pg_backup_start` checkpoints.
    public var checkpoint: Checkpoint = .spread

    /// The cluster `url` connects to; `password` travels with the connection.
    public init(url: String, password: String? = nil) {
        self.url = url
        self.password = password
    }

    /// How a base backup's first checkpoint is made.
    public enum Checkpoint: String, Sendable {
        /// An immediate checkpoint: the backup starts at once, at the cost of an I/O burst.
        case fast
        /// PostgreSQL's paced checkpoint (pg_basebackup's default): gentle, but may take minutes.
        case spread
    }

    /// What the server says about itself.
    public struct ServerFacts: Sendable {
        /// `server_version`.
        public var version: String
        /// `server_version_num` (150000 and up have `pg_backup_start`).
        public var versionNumber: Int
        /// The cluster's system identifier.
        public var systemIdentifier: String
        /// `data_directory`, as the server sees it.
        public var dataDirectory: String
        /// The current timeline.
        public var timeline: UInt32
        /// `wal_segment_size`.
        public var walSegmentBytes: UInt64
        /// `data_checksums`.
        public var dataChecksums: Bool
        /// `archive_mode`.
        public var archiveMode: String
        /// `wal_level`.
        public var walLevel: String
        /// Whether the server is a standby.
        public var isInRecovery: Bool
    }

    /// Opens a session on the cluster.
    public func connect() async throws -> PostgreSQLConnection {
        try await PostgreSQLConnection.connect(url, password: password)
    }

    /// Asks the server what it is (one query).
    public static func serverFacts(_ conn: PostgreSQLConnection) async throws -> ServerFacts {
        let sql = """
            SELECT current_setting('server_version'), current_setting('server_version_num'),
                   (SELECT system_identifier::text FROM pg_control_system()),
                   current_setting('data_directory'),
                   (SELECT timeline_id::text FROM pg_control_checkpoint()),
                   current_setting('wal_segment_size'), current_setting('data_checksums'),
                   current_setting('archive_mode'), current_setting('wal_level'), pg_is_in_recovery()::text,
                   pg_walfile_name(CASE WHEN pg_is_in_recovery() THEN '0/0'::pg_lsn ELSE pg_current_wal_lsn() END)
            """
        guard let row = try await conn.query(sql).first, row.count == 11, let number = row[1].flatMap({ Int($0) }),
            let segment = row[5].flatMap(parseBytes)
        else { throw PostgreSQLSourceError.unexpectedAnswer("the server facts query", "\(try await conn.query(sql))") }
        var timeline = row[4].flatMap { UInt32($0) } ?? 1
        // pg_control_checkpoint lags a promotion until the next checkpoint; the current WAL file does not.
        if row[9] == "false", let current = row[10].flatMap(WalFileName.init) { timeline = current.timeline }
        return ServerFacts(
            version: row[0] ?? "?", versionNumber: number, systemIdentifier: row[2] ?? "?", dataDirectory: row[3] ?? "",
            timeline: timeline, walSegmentBytes: segment, dataChecksums: row[6] == "on", archiveMode: row[7] ?? "off",
            walLevel: row[8] ?? "?", isInRecovery: row[9] == "true")
    }

    /// `16MB` → 16777216 (how `current_setting` shows `wal_segment_size`).
    static func parseBytes(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            return UInt64(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)).map { $0 * factor }
        }
        return UInt64(text)
    }

    /// The pre-backup consistency checks: the server answers and is a primary, WAL
    /// archiving is on and its last attempt succeeded, no page has failed its checksum,
    /// and the named indexes pass amcheck.
    /// - Throws: ``PostgreSQLSourceError/archivingOff(mode:)``, or ``PostgreSQLSourceError/preCheckFailed(_:)`` naming the first failure.
    public func preCheck(_ conn: PostgreSQLConnection, server: ServerFacts) async throws -> Snapshot.CheckOutcome {
        guard !server.isInRecovery else { throw PostgreSQLSourceError.inRecovery(conn.displayURL) }
        guard server.walLevel != "minimal" else {
            throw PostgreSQLSourceError.preCheckFailed("wal_level is minimal; set it to replica and restart the server")
        }
        guard server.archiveMode == "on" || server.archiveMode == "always" else {
            throw PostgreSQLSourceError.archivingOff(mode: server.archiveMode)
        }
        var details = ["PostgreSQL \(server.version) answers", "archive_mode \(server.archiveMode)"]
        let archiver = try await conn.query(
            """
            SELECT archived_count::text, last_archived_wal, failed_count::text, last_failed_wal,
                   (last_failed_time IS NOT NULL AND (last_archived_time IS NULL OR last_failed_time > last_archived_time))::text
            FROM pg_stat_archiver
            """)
        if let row = archiver.first, row.count == 5 {
            if row[4] == "true" {
                throw PostgreSQLSourceError.preCheckFailed(
                    "the last WAL archive attempt failed (\(row[3] ?? "?"), \(row[2] ?? "?") failures): check archive_command and the server log")
            }
            details.append("\(row[0] ?? "0") WAL files archived, last \(row[1] ?? "none")")
        }
        if server.dataChecksums {
            let failures = try await conn.value("SELECT coalesce(sum(checksum_failures), 0)::text FROM pg_stat_database") ?? "0"
            guard failures == "0" else {
                throw PostgreSQLSourceError.preCheckFailed("the server has seen \(failures) page checksum failures (pg_stat_database): investigate before backing up")
            }
            details.append("data checksums on, no failures")
        }
        if !amcheckIndexes.isEmpty {
            try await conn.query("CREATE EXTENSION IF NOT EXISTS amcheck")
            for index in amcheckIndexes {
                do {
                    try await conn.query("SELECT bt_index_check(index => $1::regclass)", [index])
                } catch PostgreSQLSourceError.queryFailed(_, let message) {
                    throw PostgreSQLSourceError.preCheckFailed("amcheck on index \(index): \(message)")
                }
            }
            details.append("amcheck passed on \(amcheckIndexes.joined(separator: ", "))")
        }
        return Snapshot.CheckOutcome(passed: true, details: details.joined(separator: "; "))
    }

    /// Tablespaces other than the two built-in ones (their data lives outside the data directory).
    public static func userTablespaces(_ conn: PostgreSQLConnection) async throws -> [String] {
        try await conn.query("SELECT spcname FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY 1").compactMap { $0.first ?? nil }
    }

    /// Exclusion patterns for a data directory, as PostgreSQL's own base backup leaves
    /// them out: the contents (not the folders) of pg_wal, replication slots and the
    /// runtime folders, the postmaster's files, relation cache files and temporary files.
    /// `backup_label` and `tablespace_map` are recorded from `pg_backup_stop` instead.
    public static func excludes(dataDirectory: String) -> [String] {
        let d = escapeGlob(dataDirectory)
        let contentsOf = ["pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"]
        let files = ["postmaster.pid", "postmaster.opts", "backup_label", "backup_label.old", "tablespace_map", "backup_manifest",
            "current_logfiles", "postgresql.auto.conf.tmp"]
        return contentsOf.map { "\(d)/\($0)/*" } + files.map { "\(d)/\($0)" } + ["pg_internal.init", "pgsql_tmp*"]
    }

    static func escapeGlob(_ s: String) -> String {
        var out = ""
        for c in s {
            if "*?[]\\".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Reads `START WAL LOCATION`, `CHECKPOINT LOCATION` and `START TIMELINE` from a backup label.
    public static func parseLabel(_ label: String) -> (start: LSN, checkpoint: LSN?, timeline: UInt32)? {
        var start: LSN?
        var checkpoint: LSN?
        var timeline: UInt32?
        for line in label.split(separator: "\n") {
            if line.hasPrefix("START WAL LOCATION: ") {
                start = line.dropFirst(20).split(separator: " ").first.flatMap { LSN(String($0)) }
            } else if line.hasPrefix("CHECKPOINT LOCATION: ") {
                checkpoint = LSN(String(line.dropFirst(21)))
            } else if line.hasPrefix("START TIMELINE: ") {
                timeline = UInt32(line.dropFirst(16))
            }
        }
        guard let start else { return nil }
        return (start, checkpoint, timeline ?? 1)
    }
}
