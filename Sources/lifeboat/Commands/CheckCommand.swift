import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check the repository's structure; with --read-data, every byte of it.",
        discussion: """
            Exits 13 when something is damaged or missing, naming each damaged object. With lifeboat.yaml, \
            each snapshot the catalog recorded in this location that it no longer holds is an error too.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .long, help: "Read every pack and authenticate every blob.")
    var readData = false

    func run() async throws {
        let repo = try await repository.open()
        var report = try await RepositoryLock.withLock(repo, exclusive: false, host: Requester.current.host, username: Requester.current.username) {
            try await Checker(repository: repo).check(readData: readData)
        }
        if try repository.configuration() != nil {
            // The catalog remembers which snapshots this location held: one gone since was deleted or rolled back.
            do {
                report.errors += try await CatalogWitness(context: try repository.context(for: "check")).missingSnapshots(
                    at: try repository.location(), backend: repo.backend)
            } catch {
                FileHandle.standardError.write(Data("lifeboat: warning: the catalog could not tell which snapshots this location should hold: \(error)\n".utf8))
            }
        }
        try ReportOutput.print(report, json: output.json, what: readData ? "check --read-data" : "check")
    }
}

enum ReportOutput {
    static func print(_ report: CheckReport, json: Bool, what: String) throws {
        if json {
            try JSONOutput.print(report)
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
