import Foundation
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

extension RecoveryRun {
    /// The point a PostgreSQL RESTORE_BACKUP recovers to: `toTime`, `toLsn` or `toName`
    /// (validation let through at most one, well formed), else the end of the archive.
    static func recoveryTarget(of step: RecoveryStep) -> PostgreSQLRestorer.RecoveryTarget {
        if let text = step.toTime, let time = ISO8601.parse(text) { return .time(time) }
        if let text = step.toLsn, let lsn = LSN(text) { return .lsn(lsn) }
        if let name = step.toName { return .name(name) }
        return .endOfArchive
    }

    /// RESTORE_BACKUP of a PostgreSQL source. A drill restores into a scratch cluster in
    /// its sandbox, started on a free loopback port and recovered before the step ends (it
    /// runs until the sandbox is removed, for the steps after it). EXECUTE restores into a
    /// staging data directory beside the target, set up to recover when it starts, and
    /// swaps it in only while no server runs on the target: the data directory that was
    /// there is kept as `<target>.before-<execution id>`.
    func restorePostgreSQL(
        _ step: RecoveryStep, source: LifeboatConfiguration.Source, repository: Repository, entry: SnapshotEntry, location: String, log: String
    ) async throws -> StepResult {
        var log = log
        let target = Self.recoveryTarget(of: step)
        let walFetch = try walFetch(from: location)
        let serverEnvironment = walFetch.serverEnvironment(from: executor.context.secrets.environment)
        // The time the data is from: a time target's, else the base backup's end, which the
        // replayed WAL can only make later (so the RPO recorded is never better than achieved).
        let restorePoint: Date
        if case .time(let t) = target { restorePoint = t } else { restorePoint = entry.snapshot.postgres?.stopTime ?? entry.snapshot.time }
        switch record.mode {
        case .test:
            guard let sandbox else { preconditionFailure("a drill has a sandbox") }
            let root = sandbox.root(of: source.name)
            // An interrupted attempt's cluster (still running when its executor was killed) and copy.
            sandbox.stopCluster(of: source.name)
            RecoverySandbox(path: root).remove()
            // The cluster runs as the data directory's owner: it must pass through the sandbox.
            chmod(sandbox.path, 0o711)
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            try PostgreSQLServer.checkPassable(root)
            let socket = try PostgreSQLRestorationTest.makeSocketFolder(in: root)
            var cluster = RecoverySandbox.Cluster(dataDirectory: root + "/pgdata", port: 0, socketDirectory: socket, logFile: root + "/recovery.log")
            // Recorded before the start: a socket folder outside the sandbox is then removed with it whatever happens.
            try sandbox.record(cluster, of: source.name)
            let started = try await PostgreSQLRestorationTest(repository: repository).startScratch(
                entry, target: target, restoreCommand: walFetch.restoreCommand, dataDirectory: cluster.dataDirectory, socketDirectory: socket,
                log: cluster.logFile, serverEnvironment: serverEnvironment)
            cluster.port = started.port
            try sandbox.record(cluster, of: source.name)
            log += "restored base backup \(started.restored.base.id.shortHex) into the sandbox's cluster \(cluster.dataDirectory), recovered to \(started.restored.target) on timeline \(started.restored.timeline); listening on 127.0.0.1:\(started.port) and \(socket)"
        case .execute:
            guard let dataDirectory = step.target ?? source.pgdata else {
                throw RecoveryError.stepFailed("step '\(step.name)' has no target and source '\(source.name)' no pgdata: give the data directory to restore as target")
            }
            if FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid"), let server = try? PostgreSQLServer(dataDirectory: dataDirectory),
                try await server.isRunning()
            {
                throw RecoveryError.stepFailed(
                    "a PostgreSQL server is running on \(dataDirectory): stop it (pg_ctl -D \(dataDirectory) stop, or its service) and run the plan again; nothing was changed")
            }
            let parent = (dataDirectory as NSString).deletingLastPathComponent
            let staging = parent + "/.lifeboat-staging-\(shortID)-" + (dataDirectory as NSString).lastPathComponent
            RecoverySandbox(path: staging).remove()  // an interrupted attempt's partial copy
            defer { RecoverySandbox(path: staging).remove() }
            var options = PostgreSQLRestorer.Options(dataDirectory: staging, restoreCommand: walFetch.restoreCommand)
            options.target = target
            options.isProduction = true
            options.serverEnvironment = serverEnvironment
            let result = try await PostgreSQLRestorer(repository: repository).restore(entry, options: options)
            let kept = try swapIn(staging, at: dataDirectory, companions: [])
            log += "restored base backup \(result.base.id.shortHex) into \(dataDirectory) (\(result.restore.filesRestored) files, \(ByteFormat.string(result.restore.bytesWritten))); it recovers to \(result.target) on timeline \(result.timeline) when started\(kept.map { "; the previous data directory is kept as \($0)" } ?? "")"
        }
        return StepResult(log: log, restorePoint: restorePoint)
    }

    /// How a restored cluster fetches WAL from `location`: the executor's (the CLI's
    /// passphrase file), else lifeboat.yaml's passphrase file.
    private func walFetch(from location: String) throws -> WalRestoreCommand {
        let place = try executor.context.configuration.location(named: location)
        if let walFetch = executor.walFetch { return try walFetch(place) }
        return try WalRestoreCommand(location: place.path, passwordFile: executor.context.configuration.passphrase?.file)
    }

    /// VERIFY_SYSTEM of a PostgreSQL source: the cluster is out of recovery (waited for: a
    /// step's timeout says how long a recovery may take) and its tables
    /// can be counted, and the query (in the source's database) returns true. In a drill, the
    /// sandbox's cluster (started again if a reboot stopped it); for EXECUTE, the source's own
    /// server at its URL, which a step before this one started.
    func verifyPostgreSQL(_ step: RecoveryStep, source: LifeboatConfiguration.Source) async throws -> StepResult {
        let database = source.url.flatMap { URLComponents(string: $0)?.path }.map { String($0.drop { $0 == "/" }) }.flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
        let connection: PostgreSQLConnection
        var log: String
        if let sandbox {
            guard var cluster = sandbox.cluster(of: source.name), cluster.port > 0 else {
                throw RecoveryError.stepFailed("the drill has no cluster of source '\(source.name)': a RESTORE_BACKUP step of it must run before this one")
            }
            let server = try PostgreSQLServer(dataDirectory: cluster.dataDirectory)
            if !(try await server.isRunning()) {
                cluster.port = try PostgreSQLServer.freePort()
                try await server.start(port: cluster.port, logFile: cluster.logFile)
                try sandbox.record(cluster, of: source.name)
            }
            let session = [("host", cluster.socketDirectory), ("port", "\(cluster.port)"), ("user", server.owner)]
            let counted = try await PostgreSQLRestorationTest.tableRows(session: session)
            log = "\(cluster.dataDirectory): \(counted.rows.count) tables in \(counted.databases) databases, \(counted.rows.values.reduce(0, +)) rows"
            connection = try await PostgreSQLConnection.connect(parameters: session + [("dbname", database)])
        } else {
            let password = try executor.context.secrets.secret(environment: source.passwordEnv, file: source.passwordFile, for: "source '\(source.name)'")
            connection = try await PostgreSQLConnection.connect(source.url ?? "", password: password)
            log = "\(source.name)"
        }
        // A server just started on a restored data directory accepts connections before its
        // recovery ends: waited for, within the step's timeout.
        var waited = false
        while try await connection.value("SELECT pg_is_in_recovery()::text") == "true" {
            waited = true
            try await executor.context.clock.sleep(for: executor.pollInterval)
        }
        if waited { log += "; waited for the end of recovery" }
        let tables = try await connection.value(
            "SELECT count(*)::text FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')") ?? "0"
        log += "; out of recovery, \(tables) tables in database \(database)"
        if let query = step.query {
            let value: String?
            do {
                value = try await connection.value(query)
            } catch {
                throw RecoveryError.stepFailed("the check query \"\(query)\" on source '\(source.name)' failed: \(error)")
            }
            guard let value, ["1", "true", "t", "yes"].contains(value.lowercased()) else {
                throw RecoveryError.stepFailed("the check query \"\(query)\" on source '\(source.name)' returned \(value ?? "no value"), not true")
            }
            log += "; \"\(query)\" is true"
        }
        return StepResult(log: log)
    }
}
