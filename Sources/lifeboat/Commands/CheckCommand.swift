import ArgumentParser
import Foundation
import LifeboatCore

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check the repository's structure; with --read-data, every byte of it.",
        discussion: "Exits 13 when something is damaged or missing, naming each damaged object.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .long, help: "Read every pack and authenticate every blob.")
    var readData = false

    func run() async throws {
        let repo = try await repository.open()
        let report = try await RepositoryLock.withLock(repo, exclusive: false, host: Identity.host, username: Identity.username) {
            try await Checker(repository: repo).check(readData: readData)
        }
        try ReportOutput.print(report, json: output.json, what: readData ? "check --read-data" : "check")
    }
}

enum ReportOutput {
    static func print(_ report: CheckReport, json: Bool, what: String) throws {
        if json {
            try JSONOutput.print(
                CheckJSON(
                    ok: report.isOK, errors: report.errors, warnings: report.warnings, snapshots: report.snapshotsChecked,
                    trees: report.treesChecked, packs: report.packsChecked, blobs: report.blobsChecked, objects: report.objectsChecked,
                    bytesRead: report.bytesRead))
        } else {
            for w in report.warnings { Swift.print("warning: \(w)") }
            for e in report.errors { Swift.print("error: \(e)") }
            var parts: [String] = []
            if report.snapshotsChecked > 0 { parts.append("\(report.snapshotsChecked) snapshots") }
            if report.treesChecked > 0 { parts.append("\(report.treesChecked) trees") }
            if report.packsChecked > 0 { parts.append("\(report.packsChecked) packs") }
            if report.blobsChecked > 0 { parts.append("\(report.blobsChecked) blobs") }
            if report.objectsChecked > 0 { parts.append("\(report.objectsChecked) objects") }
            if report.bytesRead > 0 { parts.append(ByteFormat.string(report.bytesRead) + " read") }
            let counted = parts.isEmpty ? "" : parts.joined(separator: ", ") + ": "
            Swift.print("\(what): \(counted)\(report.isOK ? "no errors" : "\(report.errors.count) errors")")
        }
        if !report.isOK { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }
}

struct CheckJSON: Encodable {
    let ok: Bool
    let errors: [String]
    let warnings: [String]
    let snapshots: Int
    let trees: Int
    let packs: Int
    let blobs: Int
    let objects: Int
    let bytesRead: Int64
}
