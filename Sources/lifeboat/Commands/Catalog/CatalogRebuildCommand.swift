import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

/// `lifeboat catalog rebuild --from LOCATION`: the catalog is a record, never a dependency.
struct CatalogRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Recreate BackupLog rows from the snapshots in a location (rows it already has are kept).")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "A location named in lifeboat.yaml.") var from: String

    func run() async throws {
        let context = try repository.context(for: "catalog rebuild")
        let report = try await CatalogRebuild(context: context).rebuild(from: from, passphrase: try repository.passphrase())
        if output.json {
            try JSONOutput.print(report)
        } else {
            print("rebuilt from \(from): \(report.snapshots) snapshots, \(report.added) rows added, \(report.alreadyRecorded) already recorded")
            for d in report.damaged { print("  damaged: \(d)") }
        }
        if !report.damaged.isEmpty { throw ExitCode(ExitStatus.partial.rawValue) }
    }
}
