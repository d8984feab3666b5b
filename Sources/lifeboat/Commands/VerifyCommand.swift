import ArgumentParser
import Foundation
import LifeboatCore

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every object's SHA-256 name; --no-key does it without the passphrase.",
        discussion: "Without --no-key it is 'check --read-data'. Exits 13 when an object is damaged.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .long, help: "Do not unlock the repository: check object names against their SHA-256 only.")
    var noKey = false

    func run() async throws {
        if noKey {
            let report = try await ObjectVerifier(backend: try await repository.backend()).verify()
            try ReportOutput.print(report, json: output.json, what: "verify --no-key")
        } else {
            let repo = try await repository.open()
            let report = try await Checker(repository: repo).check(readData: true)
            try ReportOutput.print(report, json: output.json, what: "verify")
        }
    }
}
