import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster's three phases.
///
/// FULL and INCREMENTAL are base backups: the check connects and runs the pre-backup
/// checks, the read starts with `pg_backup_start` and is the data directory (INCREMENTAL
/// reads only files whose size, times or inode changed since the parent), and the finish
/// is `pg_backup_stop` (which switches to a new segment), naming every segment from the
/// start to the stop position: the backup waits until *its* repository's archive holds
/// them before it writes the snapshot, so a snapshot exists only for a backup that can
/// be restored.
///
/// TRANSACTION_LOG reads no files: its finish writes a restore point and forces a WAL
/// switch, and the backup waits for the switched segment, checks that no segment is
/// missing since the newest base backup (the snapshot's parent) and records that range.
/// All of it goes through the one session the check opened.
extension PostgreSQLSource: BackupSource {
    /// `postgres`.
    public var kind: SourceKind { .postgres }

    /// Connects, runs the pre-backup checks and resolves the data directory.
    /// - Throws: ``PostgreSQLSourceError`` naming the first check that failed.
    public func check(_ context: BackupSourceContext) async throws -> any CheckedBackupSource {
        let conn = try await connect()
        let server = try await Self.serverFacts(conn)
        let preCheck = try await preCheck(conn, server: server)
        let dataDirectory = try Self.resolveDataDirectory(self.dataDirectory, server: server)
        return Session(conn: conn, server: server, dataDirectory: dataDirectory, checkpoint: checkpoint, type: context.type, preCheck: preCheck)
    }

    /// The directory to read: the one given, which must be the server's, or the server's own.
    static func resolveDataDirectory(_ given: String?, server: ServerFacts) throws -> String {
        let path = given ?? server.dataDirectory
        guard let resolved = realpath(path, nil) else { throw PostgreSQLSourceError.dataDirectoryUnreadable(path) }
        defer { free(resolved) }
        let real = String(cString: resolved)
        if let serverReal = realpath(server.dataDirectory, nil) {
            defer { free(serverReal) }
            guard String(cString: serverReal) == real else { throw PostgreSQLSourceError.dataDirectoryMismatch(given: path, server: server.dataDirectory) }
        }
        guard access(real + "/PG_VERSION", R_OK) == 0 else { throw PostgreSQLSourceError.dataDirectoryUnreadable(real) }
        return real
    }

    /// A session on a server that passed the pre-backup checks. Whatever fails, releasing
    /// it closes the connection, which ends a base backup on the server.
    struct Session: CheckedBackupSource {
        let conn: PostgreSQLConnection
        let server: ServerFacts
        let dataDirectory: String
        let checkpoint: Checkpoint
        let type: BackupType?
        let preCheck: Snapshot.CheckOutcome

        var source: Snapshot.Source { .postgres(dataDirectory) }
        var paths: [String] { [dataDirectory] }
        var isModern: Bool { server.versionNumber >= 150000 }

        /// A TRANSACTION_LOG's base must be a backup of this very cluster.
        func accepts(parent: Snapshot) -> Bool {
            type != .transactionLog || parent.postgres?.systemIdentifier == server.systemIdentifier
        }

        func start(after parent: Snapshot?) async throws -> BackupSourceRead {
            if type == .transactionLog {
                guard parent?.postgres != nil else { throw PostgreSQLSourceError.noBaseBackup(dataDirectory) }
                return .archivedWal
            }
            let tablespaces = try await PostgreSQLSource.userTablespaces(conn)
            guard tablespaces.isEmpty else { throw PostgreSQLSourceError.tablespacesUnsupported(tablespaces) }
            let fast = checkpoint == .fast ? "true" : "false"
            let label = "lifeboat \(ISO8601.format(Date()))"
            try await conn.query(
                isModern ? "SELECT pg_backup_start($1, $2::boolean)" : "SELECT pg_start_backup($1, $2::boolean, false)", [label, fast])
            var selection = FileSelection(paths: [dataDirectory], excludes: PostgreSQLSource.excludes(dataDirectory: dataDirectory))
            selection.isLiveDatabaseDirectory = true
            return .files(selection)
        }

        func finish(after parent: Snapshot?) async throws -> BackupSourceCompletion {
            if type == .transactionLog { return try await switchWal(base: parent?.postgres) }
            // wait_for_archive = false: the server still switches to a new segment, and the
            // repository's own archive is what must hold the WAL, so the backup waits for that
            // (the server's own wait polls once a second and knows nothing of which archive).
            let rows = try await conn.query(
                isModern
                    ? "SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(false)"
                    : "SELECT lsn::text, labelfile, spcmapfile FROM pg_stop_backup(false, false)")
            guard let row = rows.first, row.count == 3, let stop = row[0].flatMap(LSN.init), let labelText = row[1],
                let parsed = PostgreSQLSource.parseLabel(labelText)
            else { throw PostgreSQLSourceError.unexpectedAnswer("pg_backup_stop", "\(rows)") }
            let segmentBytes = server.walSegmentBytes
            let first = parsed.start.value / segmentBytes
            let last = (max(stop.value, 1) - 1) / segmentBytes
            let needed = (first...max(first, last)).map { WalFileName(timeline: parsed.timeline, segmentNumber: $0, segmentBytes: segmentBytes) }
            let facts = PostgreSQLFacts(
                systemIdentifier: server.systemIdentifier, serverVersion: server.version, dataDirectory: dataDirectory,
                timeline: parsed.timeline, walSegmentBytes: segmentBytes, startLSN: parsed.start, stopLSN: stop,
                startWal: needed.first!.name, stopWal: needed.last!.name, stopTime: Date(), backupLabel: labelText,
                tablespaceMap: (row[2]?.isEmpty ?? true) ? nil : row[2], dataChecksums: server.dataChecksums)
            return BackupSourceCompletion(postgres: facts, requiredWal: needed)
        }

        /// TRANSACTION_LOG: a restore point, then a WAL switch; the range runs from the base
        /// backup's start to the switched segment.
        private func switchWal(base: PostgreSQLFacts?) async throws -> BackupSourceCompletion {
            guard let base else { throw PostgreSQLSourceError.noBaseBackup(dataDirectory) }
            // A restore point first: a recovery target inside the segment about to be switched
            // (recovery can only stop at a target it finds a record at or after, so a target
            // at the very end of the archive would never be reached).
            let restorePoint = "lifeboat-\(ISO8601.format(Date()))"
            guard let pointLSN = try await conn.value("SELECT pg_create_restore_point($1)::text", [restorePoint]).flatMap(LSN.init) else {
                throw PostgreSQLSourceError.unexpectedAnswer("pg_create_restore_point", "")
            }
            guard let row = try await conn.query("SELECT pg_walfile_name(s) FROM pg_switch_wal() AS s").first, row.count == 1,
                let lastFile = row[0].flatMap(WalFileName.init)
            else { throw PostgreSQLSourceError.unexpectedAnswer("pg_switch_wal", "") }
            let facts = PostgreSQLFacts(
                systemIdentifier: server.systemIdentifier, serverVersion: server.version, dataDirectory: dataDirectory,
                timeline: lastFile.timeline, walSegmentBytes: server.walSegmentBytes, startLSN: base.startLSN, stopLSN: pointLSN,
                startWal: base.startWal, stopWal: lastFile.name, stopTime: Date(), backupLabel: nil, tablespaceMap: nil,
                dataChecksums: server.dataChecksums, restorePoint: restorePoint)
            return BackupSourceCompletion(postgres: facts, requiredWal: [lastFile])
        }
    }
}
