import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct AirgapExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a self-contained, checksummed bundle of some or all snapshots.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "The bundle directory (made if missing).") var to: String
    @Option(name: .customLong("snapshot"), help: "A snapshot to carry (repeatable; default: all).") var snapshots: [String] = []
    @Option(name: .long, help: "The bundle's label.") var label = "air-gapped copy"

    func run() async throws {
        let repo = try await repository.open()
        var ids: [SnapshotID]?
        if !snapshots.isEmpty {
            ids = []
            for s in snapshots { ids!.append(try await repo.findSnapshot(s).id) }
        }
        let bundle = try LocalDirectoryBackend(path: to, create: true)
        let chosen = ids
        let report = try await RepositoryLock.withLock(repo, exclusive: false, host: Requester.current.host, username: Requester.current.username) {
            try await AirgapBundle(repository: repo).export(to: bundle, snapshots: chosen, label: label)
        }
        if output.json {
            try JSONOutput.print(["snapshots": report.snapshots.count, "packs": report.packs, "objectsCopied": report.objectsCopied, "bytesCopied": Int(report.bytesCopied)])
        } else {
            print("exported \(report.snapshots.count) snapshots (\(report.packs) packs, \(ByteFormat.string(report.bytesCopied)) copied) to \(to); verify it offline with 'lifeboat airgap verify \(to)'")
        }
    }
}
