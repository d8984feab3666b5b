import ArgumentParser
import Foundation
import LifeboatCore

struct AirgapVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check a bundle or medium offline: without the passphrase, or with it and --read-data.",
        discussion: "Exits 13 when anything is damaged, missing or unlisted.")
    @OptionGroup var output: OutputOptions
    @Argument(help: "The bundle or medium directory.") var directory: String
    @Flag(help: "Also unlock it (passphrase as for every command) and read and authenticate every blob.") var readData = false
    @Option(name: .long, help: "File whose first line is the passphrase (with --read-data).") var passwordFile: String?

    func run() async throws {
        let bundle = try LocalDirectoryBackend(path: directory)
        var report = try await AirgapBundle.verifyWithoutKey(bundle)
        if readData {
            var options = try RepositoryOptions.parse([])
            options.passwordFile = passwordFile
            let repo = try await Repository.open(backend: bundle, passphrase: try options.passphrase())
            let deep = try await Checker(repository: repo).check(readData: true)
            report.errors.append(contentsOf: deep.errors)
            report.warnings.append(contentsOf: deep.warnings)
            report.packsChecked = deep.packsChecked
            report.blobsChecked = deep.blobsChecked
            report.snapshotsChecked = deep.snapshotsChecked
        }
        try ReportOutput.print(report, json: output.json, what: readData ? "airgap verify --read-data" : "airgap verify")
    }
}
