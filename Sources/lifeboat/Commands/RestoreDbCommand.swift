import ArgumentParser
import Foundation
import LifeboatCore

struct RestoreDbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore-db",
        abstract: "Restore a database snapshot and check it.",
        discussion: """
            SQLite: the file is written beside the target and checked there (integrity_check, \
            and its row counts against the snapshot's record) before it is renamed into place; a \
            copy that fails leaves the target untouched and exits 13. An existing target (and one \
            that is open) is replaced only with --force.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Snapshot id (any unique prefix) or 'latest' (the newest SQLite snapshot).")
    var snapshot: String

    @Option(name: .long, help: "Where to write the SQLite database.")
    var sqliteTarget: String

    @Flag(help: "Replace an existing target, even one that is open.")
    var force = false

    func run() async throws {
        let repo = try await repository.open()
        let entry: SnapshotEntry
        if snapshot == "latest" {
            guard let last = try await repo.snapshots().last(where: { $0.snapshot.source.kind == "sqlite" }) else {
                throw RepositoryError.snapshotNotFound("latest SQLite snapshot")
            }
            entry = last
        } else {
            entry = try await repo.findSnapshot(snapshot)
        }
        let result = try await DatabaseRestorer(repository: repo).restoreSQLite(entry, to: sqliteTarget, force: force)
        if output.json {
            try JSONOutput.print(
                RestoreDbJSON(
                    snapshotId: entry.id.hex, target: result.target, bytesWritten: result.bytesWritten, integrityCheck: result.facts.checkResult,
                    tableRows: result.facts.tableRows, durationSeconds: result.durationSeconds))
        } else {
            print("restored \(entry.snapshot.source.name ?? "?") from snapshot \(entry.id.shortHex) to \(result.target): \(ByteFormat.string(result.bytesWritten)), integrity_check ok, row counts of \(result.facts.tableRows.count) tables match")
        }
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
