import ArgumentParser
import Foundation
import LifeboatCore

struct AirgapImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Bring a verified bundle back into a repository (or into a new location).")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The bundle directory.") var directory: String

    func run() async throws {
        let bundle = try LocalDirectoryBackend(path: directory)
        let check = try await AirgapBundle.verifyWithoutKey(bundle)
        guard check.isOK else {
            for e in check.errors { FileHandle.standardError.write(Data("lifeboat: \(e)\n".utf8)) }
            throw CLIError("the bundle in \(directory) is damaged: nothing was imported")
        }
        // Unlocking proves the passphrase matches before anything is written.
        _ = try await Repository.open(backend: bundle, passphrase: try repository.passphrase())
        let destination = try await repository.backend(create: true)
        let report = try await Replicator(source: bundle, destination: destination).replicate()
        if output.json {
            try JSONOutput.print(["objectsCopied": report.objectsCopied, "objectsPresent": report.objectsPresent])
        } else {
            print("imported \(directory): \(report.objectsCopied) objects copied, \(report.objectsPresent) already there")
        }
    }
}
