import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct AirgapExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a self-contained, checksummed bundle of some or all snapshots.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var progress: ProgressOptions
    @Option(name: .long, help: "The bundle directory (made if missing).") var to: String
    @Option(name: .customLong("snapshot"), help: "A snapshot to carry (repeatable; default: all).") var snapshots: [String] = []
    @Option(name: .long, help: "The bundle's label.") var label = "air-gapped copy"

    func run() async throws {
        let repo = try await repository.open()
        let display = ProgressDisplay(verb: "airgap export", mode: progress.mode(json: output.json))
        let report = try await display.show { meter in
            try await AirgapTransfer(requester: .current).export(repo, snapshots: snapshots, to: to, label: label, progress: meter)
        }
        if output.json {
            try JSONOutput.print(
                Output(
                    snapshots: report.snapshots.count, packs: report.packs, objectsCopied: report.objectsCopied, bytesCopied: Int(report.bytesCopied),
                    rejected: report.rejected))
        } else {
            print("exported \(report.snapshots.count) snapshots (\(report.packs) packs, \(ByteFormat.string(report.bytesCopied)) copied) to \(to); verify it offline with 'lifeboat airgap verify \(to)'")
        }
        try RejectedKeysOutput.warn(report.rejected)
    }

    struct Output: Encodable {
        let snapshots: Int
        let packs: Int
        let objectsCopied: Int
        let bytesCopied: Int
        let rejected: [RejectedObjectKey]
    }
}
