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
    @OptionGroup var progress: ProgressOptions

    @Flag(name: .long, help: "Read every pack and authenticate every blob.")
    var readData = false

    @Option(help: "Read only part of the data: 'n/m' (group n of m, the same each run: 1/7 to 7/7 reads all in a week) or 'x%' (a random share).")
    var readDataSubset: String?

    // A mistyped subset is a usage error (64), found before the repository is opened.
    func validate() throws {
        do {
            _ = try readDataSubset.map { text throws(ReadDataSubsetError) in try ReadDataSubset(parsing: text) }
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let subset = try readDataSubset.map { text throws(ReadDataSubsetError) in try ReadDataSubset(parsing: text) }
        let repo = try await repository.open()
        let display = ProgressDisplay(verb: "check", mode: progress.mode(json: output.json))
        var report = try await display.show { meter in
            try await RepositoryLock.withLock(repo, exclusive: false, host: Requester.current.host, username: Requester.current.username) {
                var checker = Checker(repository: repo)
                checker.progress = meter
                return try await checker.check(readData: readData || subset != nil, subset: subset)
            }
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
        let what = subset.map { "check --read-data-subset \($0)" } ?? (readData ? "check --read-data" : "check")
        try ReportOutput.print(report, json: output.json, what: what)
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
