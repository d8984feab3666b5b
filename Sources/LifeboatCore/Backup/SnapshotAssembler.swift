import Foundation

/// Puts a backup's snapshot together from what its stages found, and writes it last.
///
/// The snapshot is the backup's commit (DESIGN §3, write order): it is written only after
/// every pack and index segment it needs is durable, read back when asked
/// (`BackupOptions.readsBack`, DESIGN §1.3), and after the source's finish (PostgreSQL's
/// WAL in the archive). Whatever fails before leaves only unreferenced objects.
struct SnapshotAssembler {
    let repository: Repository
    let options: BackupOptions
    let started = Date()
    private let clock = ContinuousClock()
    private let startInstant: ContinuousClock.Instant
    /// What the post-backup checks found, in the order they ran.
    private(set) var postDetails: [String] = []

    init(repository: Repository, options: BackupOptions) {
        self.repository = repository
        self.options = options
        startInstant = ContinuousClock.now
    }

    /// Records one post-backup check that passed.
    mutating func passed(_ details: String) {
        postDetails.append(details)
    }

    /// Reads back every pack and index segment `writer` wrote and authenticates each blob.
    /// - Throws: ``BackupError/readBackFailed(_:)`` on damage.
    mutating func readBack(_ writer: BlobWriter) async throws {
        let written = writer.writtenObjects
        let report = try await Checker(repository: repository).readBack(written)
        guard report.isOK else { throw BackupError.readBackFailed(report.errors) }
        let packs = written.filter { $0.name.kind == .data }
        passed(
            "read back \(packs.count) packs (\(packs.reduce(0) { $0 + $1.sizeBytes }) bytes, \(report.blobsChecked) blobs) and \(written.count - packs.count) index segments: every SHA-256 and blob authenticated"
        )
    }

    /// Writes the snapshot under the run's data key.
    func save(
        _ checked: any CheckedBackupSource, type: BackupType, parent: SnapshotEntry?, stored: FileTreeBackup.Stored, excludes: [String],
        database: DatabaseFacts?, postgres: PostgreSQLFacts?, writer: BlobWriter
    ) async throws -> BackupResult {
        var stats = stored.statistics
        stats.bytesAdded = writer.bytesAdded
        stats.blobsAdded = writer.blobsAdded
        let elapsed = clock.now - startInstant
        stats.durationSeconds = elapsed.seconds
        let post = postDetails.isEmpty ? nil : Snapshot.CheckOutcome(passed: true, details: postDetails.joined(separator: "; "))
        let snapshot = Snapshot(
            time: started, endTime: Date(), type: type, source: checked.source, paths: checked.paths, tags: options.tags, host: options.host,
            username: options.username, parent: parent?.id, tree: stored.root, dataKey: writer.dataKey.id,
            programVersion: options.programVersion, excludes: excludes, statistics: stats,
            checks: Snapshot.Checks(pre: checked.preCheck, post: post), warnings: stored.warnings, database: database, postgres: postgres)
        let id = try await writer.saveSnapshot(snapshot)
        return BackupResult(snapshotID: id, snapshot: snapshot)
    }
}
