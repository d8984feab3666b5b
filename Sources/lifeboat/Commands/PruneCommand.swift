import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove data no snapshot refers to, repacking as few partly used packs as keep what is unused within --max-unused.",
        discussion: """
            Takes the exclusive lock: backups that start meanwhile stop with exit 11. With \
            --location, prunes that location of lifeboat.yaml and records when in the catalog \
            (run and log show each location's last prune).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var pruneOptions: PruneOptions
    @OptionGroup var progress: ProgressOptions

    @Flag(help: "Show what would be removed; change nothing.") var dryRun = false

    @Option(help: "Prune this location of lifeboat.yaml (and record it in the catalog) instead of the repository.")
    var location: String?

    func run() async throws {
        let report: Pruner.Report
        if let location {
            let context = try repository.context(for: "--location")
            let outcome = try await PruneOperation(context: context).run(
                location: location, passphrase: try repository.passphrase(), dryRun: dryRun,
                packGracePeriod: pruneOptions.gracePeriod ?? Pruner.defaultPackGracePeriod, maxUnused: pruneOptions.unusedLimit ?? .default)
            if let why = outcome.notRecorded { FileHandle.standardError.write(Data("lifeboat: warning: the prune was not recorded: \(why)\n".utf8)) }
            report = outcome.report
        } else {
            let repo = try await repository.open()
            let display = ProgressDisplay(verb: "prune", mode: progress.mode(json: output.json))
            report = try await display.show { meter in
                var pruner = pruneOptions.pruner(repo)
                pruner.progress = meter
                return try await pruner.prune(dryRun: dryRun, host: Requester.current.host, username: Requester.current.username)
            }
        }
        if output.json {
            try JSONOutput.print(report)
        } else {
            Self.printText(report)
        }
    }

    static func printText(_ r: Pruner.Report) {
        print("\(r.isDryRun ? "would delete" : "deleted") \(r.packsDeleted) unused packs and \(r.unindexedPacksDeleted) unindexed ones, \(r.isDryRun ? "would repack" : "repacked") \(r.packsRepacked) into \(r.packsWritten), kept \(r.packsKept); \(r.blobsRemoved) blobs removed")
        print("packs: \(ByteFormat.string(r.bytesBefore)) before, \(ByteFormat.string(r.bytesAfter)) after")
        if r.unusedBytesKept > 0 { print("left \(ByteFormat.string(r.unusedBytesKept)) unused in packs still partly in use (within --max-unused)") }
        if r.youngPacksSpared > 0 { print("spared \(r.youngPacksSpared) packs younger than the grace period or the oldest live lock") }
        if r.temporariesRemoved > 0 { print("removed \(r.temporariesRemoved) half-written files of interrupted writers") }
        if r.walFilesDeleted > 0 {
            print("WAL: \(r.isDryRun ? "would delete" : "deleted") \(r.walFilesDeleted) files older than every base backup (\(ByteFormat.string(r.walBytesDeleted)))")
        }
    }
}
