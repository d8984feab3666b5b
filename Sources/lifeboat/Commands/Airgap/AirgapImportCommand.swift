import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct AirgapImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Bring a verified bundle back into a repository (or into a new location).")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The bundle directory.") var directory: String

    func run() async throws {
        let report = try await AirgapTransfer.importBundle(
            directory, passphrase: try repository.passphrase(), into: try await repository.backend(create: true))
        if output.json {
            try JSONOutput.print(["objectsCopied": report.objectsCopied, "objectsPresent": report.objectsPresent])
        } else {
            print("imported \(directory): \(report.objectsCopied) objects copied, \(report.objectsPresent) already there")
        }
    }
}
