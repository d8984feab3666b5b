import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Backups of a running PostgreSQL cluster.
///
/// FULL and INCREMENTAL are base backups: the pre-backup checks, `pg_backup_start`, the
/// data directory read by the ``Archiver`` (INCREMENTAL reads only files whose size,
/// times or inode changed since the parent), `pg_backup_stop` (which switches to a new
/// segment), and then a wait until every segment from the start to the stop position is
/// in *this* repository's archive. Only then is the
/// snapshot written, with the label and positions: a snapshot exists only for a backup
/// that can be restored.
///
/// TRANSACTION_LOG writes a restore point and forces a WAL switch, waits until the
/// archive holds the switched segment, checks that no segment is missing since the newest base backup, and records
/// that range as a snapshot of its own (with an empty tree).
public struct PostgreSQLBackup: Sendable {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    public enum Checkpoint: String, Sendable {
        /// An immediate checkpoint: the backup starts at once, at the cost of an I/O burst.
        case fast
        /// PostgreSQL's paced checkpoint (pg_basebackup's default): gentle, but may take minutes.
        case spread
    }

    public struct Options: Sendable {
        public var source: PostgreSQLSource
        /// The data directory on this host; nil takes the server's `data_directory`.
        public var dataDirectory: String?
        public var checkpoint: Checkpoint = .spread
        /// How long to wait for WAL to reach the archive.
        public var archiveTimeout: Duration = .seconds(300)
        public var backup: BackupOptions

        public init(source: PostgreSQLSource, backup: BackupOptions) {
            self.source = source
            self.backup = backup
        }
    }

    public func backup(_ options: Options, progress: AsyncStream<BackupProgress>.Continuation? = nil) async throws -> BackupResult {
        try await backup(try await prepare(options), progress: progress)
    }

    /// A session on a server that passed the pre-backup checks; nothing is written yet.
    public struct Prepared: Sendable {
        let conn: PostgreSQLConnection
        let server: PostgreSQLSource.ServerFacts
        let dataDirectory: String
        let options: Options
        public let preCheck: Snapshot.CheckOutcome
    }

    /// Connects and runs the pre-backup checks.
    /// - Throws: ``PostgreSQLSourceError`` naming the first check that failed.
    public func prepare(_ options: Options) async throws -> Prepared {
        let conn = try await options.source.connect()
        let server = try await PostgreSQLSource.serverFacts(conn)
        let preCheck = try await options.source.preCheck(conn, server: server)
        let dataDirectory = try resolveDataDirectory(options.dataDirectory, server: server)
        return Prepared(conn: conn, server: server, dataDirectory: dataDirectory, options: options, preCheck: preCheck)
    }

    /// Backs up through a prepared session.
    public func backup(_ prepared: Prepared, progress: AsyncStream<BackupProgress>.Continuation? = nil) async throws -> BackupResult {
        let (conn, server, dataDirectory, options, preCheck) = (prepared.conn, prepared.server, prepared.dataDirectory, prepared.options, prepared.preCheck)
        if options.backup.type == .transactionLog {
            return try await transactionLog(conn, server: server, dataDirectory: dataDirectory, preCheck: preCheck, options: options)
        }
        let tablespaces = try await PostgreSQLSource.userTablespaces(conn)
        guard tablespaces.isEmpty else { throw PostgreSQLSourceError.tablespacesUnsupported(tablespaces) }

        let fast = options.checkpoint == .fast ? "true" : "false"
        let label = "lifeboat \(ISO8601.format(Date()))"
        let modern = server.versionNumber >= 150000
        try await conn.query(
            modern ? "SELECT pg_backup_start($1, $2::boolean)" : "SELECT pg_start_backup($1, $2::boolean, false)", [label, fast])

        var backup = options.backup
        backup.paths = [dataDirectory]
        backup.source = .postgres(dataDirectory)
        backup.excludes += PostgreSQLSource.excludes(dataDirectory: dataDirectory)
        backup.isLiveDatabaseDirectory = true
        backup.preCheck = preCheck
        let archive = WalArchive(repository: repository)
        let timeout = options.archiveTimeout
        backup.completeSnapshot = { snapshot in
            // wait_for_archive = false: the server still switches to a new segment, and this
            // repository's own archive is what must hold the WAL, so that is what is awaited
            // (the server's own wait polls once a second and knows nothing of which archive).
            let rows = try await conn.query(
                modern
                    ? "SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(false)"
                    : "SELECT lsn::text, labelfile, spcmapfile FROM pg_stop_backup(false, false)")
            guard let row = rows.first, row.count == 3, let stop = row[0].flatMap(LSN.init), let labelText = row[1],
                let parsed = PostgreSQLSource.parseLabel(labelText)
            else { throw PostgreSQLSourceError.unexpectedAnswer("pg_backup_stop", "\(rows)") }
            let segmentBytes = server.walSegmentBytes
            let first = parsed.start.value / segmentBytes
            let last = (max(stop.value, 1) - 1) / segmentBytes
            let needed = (first...max(first, last)).map { WalFileName(timeline: parsed.timeline, segmentNumber: $0, segmentBytes: segmentBytes) }
            try await Self.awaitArchived(needed, in: archive, timeout: timeout)
            var s = snapshot
            s.postgres = PostgreSQLFacts(
                systemIdentifier: server.systemIdentifier, serverVersion: server.version, dataDirectory: dataDirectory,
                timeline: parsed.timeline, walSegmentBytes: segmentBytes, startLSN: parsed.start, stopLSN: stop,
                startWal: needed.first!.name, stopWal: needed.last!.name, stopTime: Date(), backupLabel: labelText,
                tablespaceMap: (row[2]?.isEmpty ?? true) ? nil : row[2], dataChecksums: server.dataChecksums)
            let wal = "WAL \(needed.first!.name)…\(needed.last!.name) (\(needed.count) segments) archived in this repository"
            s.checks.post = Snapshot.CheckOutcome(passed: true, details: [s.checks.post?.details, wal].compactMap { $0 }.joined(separator: "; "))
            return s
        }
        // Whatever fails, closing the session (when `conn` is released) ends the backup on the server.
        return try await Archiver(repository: repository).backup(backup, progress: progress)
    }

    /// The directory to read: the one given, which must be the server's, or the server's own.
    private func resolveDataDirectory(_ given: String?, server: PostgreSQLSource.ServerFacts) throws -> String {
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

    /// Waits until every file is archived; throws naming the missing ones after `timeout`.
    static func awaitArchived(_ files: [WalFileName], in archive: WalArchive, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var pause = Duration.milliseconds(50)
        while true {
            let present = Set(try await archive.list().map(\.file))
            let missing = files.filter { !present.contains($0) }
            if missing.isEmpty { return }
            if clock.now >= deadline {
                throw PostgreSQLSourceError.walNotArchived(missing: missing.map(\.name), location: archive.repository.location)
            }
            // Quick at first (a push takes a fraction of a second), then at most once a second.
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(1))
        }
    }

    // MARK: - TRANSACTION_LOG

    private func transactionLog(
        _ conn: PostgreSQLConnection, server: PostgreSQLSource.ServerFacts, dataDirectory: String, preCheck: Snapshot.CheckOutcome,
        options: Options
    ) async throws -> BackupResult {
        let started = Date()
        let clock = ContinuousClock()
        let startInstant = clock.now
        let source = Snapshot.Source.postgres(dataDirectory)
        let all = try await repository.snapshots()
        guard
            let base = all.last(where: {
                $0.snapshot.source == source && $0.snapshot.type != .transactionLog && $0.snapshot.postgres?.systemIdentifier == server.systemIdentifier
            }), let baseFacts = base.snapshot.postgres
        else { throw PostgreSQLSourceError.noBaseBackup(dataDirectory) }

        // A restore point first: a recovery target inside the segment about to be switched
        // (recovery can only stop at a target it finds a record at or after, so a target
        // at the very end of the archive would never be reached).
        let restorePoint = "lifeboat-\(ISO8601.format(started))"
        guard let pointLSN = try await conn.value("SELECT pg_create_restore_point($1)::text", [restorePoint]).flatMap(LSN.init) else {
            throw PostgreSQLSourceError.unexpectedAnswer("pg_create_restore_point", "")
        }
        guard let row = try await conn.query("SELECT pg_walfile_name(s) FROM pg_switch_wal() AS s").first, row.count == 1,
            let lastFile = row[0].flatMap(WalFileName.init)
        else { throw PostgreSQLSourceError.unexpectedAnswer("pg_switch_wal", "") }
        let archive = WalArchive(repository: repository)
        try await Self.awaitArchived([lastFile], in: archive, timeout: options.archiveTimeout)

        // No gap from the base backup's first segment to the switched one. Across a
        // promotion a segment number may live on any timeline from the base's to now.
        let segmentBytes = server.walSegmentBytes
        let first = baseFacts.startLSN.value / segmentBytes
        let last = lastFile.segmentNumber(segmentBytes: segmentBytes)!
        var archived: [UInt64: Set<UInt32>] = [:]
        for entry in try await archive.list() {
            if let n = entry.file.segmentNumber(segmentBytes: segmentBytes) { archived[n, default: []].insert(entry.file.timeline) }
        }
        let missing = (first...max(first, last)).filter { n in
            !(archived[n]?.contains { $0 >= baseFacts.timeline && $0 <= lastFile.timeline } ?? false)
        }.map { WalFileName(timeline: lastFile.timeline, segmentNumber: $0, segmentBytes: segmentBytes).name }
        guard missing.isEmpty else { throw PostgreSQLSourceError.walNotArchived(missing: missing, location: repository.location) }

        return try await RepositoryLock.withLock(repository, exclusive: false, host: options.backup.host, username: options.backup.username) {
            let index = try await repository.loadIndex()
            let writer = try await BlobWriter(repository: repository, index: index, now: started)
            let (tree, _) = try await writer.save(Tree(nodes: []).encoded(), type: .tree)
            try await writer.flush()
            var stats = Snapshot.Statistics()
            let elapsed = clock.now - startInstant
            stats.durationSeconds = elapsed.seconds
            stats.bytesAdded = writer.bytesAdded
            stats.blobsAdded = writer.blobsAdded
            let segments = Int(last - first + 1)
            let snapshot = Snapshot(
                time: started, endTime: Date(), type: .transactionLog, source: source, paths: [dataDirectory], tags: options.backup.tags,
                host: options.backup.host, username: options.backup.username, parent: base.id, tree: tree, dataKey: writer.dataKey.id,
                programVersion: options.backup.programVersion, excludes: [], statistics: stats,
                checks: Snapshot.Checks(
                    pre: preCheck,
                    post: Snapshot.CheckOutcome(
                        passed: true, details: "no gap in \(segments) WAL segments from \(baseFacts.startWal) to \(lastFile.name)")),
                warnings: [], database: nil,
                postgres: PostgreSQLFacts(
                    systemIdentifier: server.systemIdentifier, serverVersion: server.version, dataDirectory: dataDirectory,
                    timeline: lastFile.timeline, walSegmentBytes: segmentBytes, startLSN: baseFacts.startLSN, stopLSN: pointLSN,
                    startWal: baseFacts.startWal, stopWal: lastFile.name, stopTime: Date(), backupLabel: nil, tablespaceMap: nil,
                    dataChecksums: server.dataChecksums, restorePoint: restorePoint))
            let id = try await writer.saveSnapshot(snapshot)
            return BackupResult(snapshotID: id, snapshot: snapshot)
        }
    }
}
