import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct AirgapVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check a bundle or medium offline: without the passphrase, or with it and --read-data.",
        discussion: "Exits 13 when anything is damaged, missing or unlisted.")
    @OptionGroup var output: OutputOptions
    @Argument(help: "The bundle or medium directory.") var directory: String
    @Flag(help: "Also unlock it (passphrase as for every command) and read and authenticate every blob.") var readData = false
    @Option(name: .long, help: "File whose first line is the passphrase (with --read-data).") var passwordFile: String?

    func run() async throws {
        var passphrase: String?
        if readData {
            var options = try RepositoryOptions.parse([])
            options.passwordFile = passwordFile
            passphrase = try options.passphrase()
        }
        let report = try await AirgapTransfer.verify(directory, passphrase: passphrase)
        try ReportOutput.print(report, json: output.json, what: readData ? "airgap verify --read-data" : "airgap verify")
    }
}
