import ArgumentParser
import Foundation
import LifeboatCore

struct AirgapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airgap", abstract: "Self-contained offline copies: export, verify, import.",
        subcommands: [AirgapExportCommand.self, AirgapVerifyCommand.self, AirgapImportCommand.self])
}

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
        let report = try await RepositoryLock.withLock(repo, exclusive: false, host: Identity.host, username: Identity.username) {
            try await AirgapBundle(repository: repo).export(to: bundle, snapshots: chosen, label: label)
        }
        if output.json {
            try JSONOutput.print(["snapshots": report.snapshots.count, "packs": report.packs, "objectsCopied": report.objectsCopied, "bytesCopied": Int(report.bytesCopied)])
        } else {
            print("exported \(report.snapshots.count) snapshots (\(report.packs) packs, \(ByteFormat.string(report.bytesCopied)) copied) to \(to); verify it offline with 'lifeboat airgap verify \(to)'")
        }
    }
}

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
