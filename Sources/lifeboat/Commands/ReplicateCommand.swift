import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct ReplicateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicate",
        abstract: "Copy to another location the objects it lacks, byte for byte, verifying each copy.",
        discussion: """
            An interrupted replication resumes without sending again what arrived. With --medium \
            the destination is a write-once removable medium whose manifest.json (label, objects, \
            SHA-256, dates) is brought up to date afterwards, so it can be checked alone later. \
            Keys in the repository that are no valid object name are not copied: each is a \
            warning, and the exit status is 3.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var progress: ProgressOptions

    @Option(name: .long, help: "The destination: a location named in lifeboat.yaml, or a directory (made if missing).")
    var to: String

    @Option(name: .long, help: "Treat the destination as a removable medium with this label.")
    var medium: String?

    func run() async throws {
        let repo = try await repository.open()
        var medium = self.medium
        let destination: any StorageBackend
        if let config = try repository.configuration(), let named = config.locations.first(where: { $0.name == to }) {
            medium = medium ?? named.medium
            destination = try await repository.backends.backend(for: named, create: true)
        } else {
            destination = try await repository.backends.backend(path: to, medium: medium, create: true)
        }
        let display = ProgressDisplay(verb: "replicate", mode: progress.mode(json: output.json))
        let report = try await display.show { meter in
            try await Replicator.copy(repo, to: destination, medium: medium, host: Requester.current.host, username: Requester.current.username, progress: meter)
        }
        if output.json {
            try JSONOutput.print(
                Output(objectsCopied: report.objectsCopied, objectsPresent: report.objectsPresent, bytesCopied: Int(report.bytesCopied), rejected: report.rejected))
        } else {
            print("replicated to \(to): \(report.objectsCopied) objects copied (\(ByteFormat.string(report.bytesCopied))), \(report.objectsPresent) already there, all verified")
        }
        try RejectedKeysOutput.warn(report.rejected)
    }

    struct Output: Encodable {
        let objectsCopied: Int
        let objectsPresent: Int
        let bytesCopied: Int
        let rejected: [RejectedObjectKey]
    }
}
