import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a snapshot under a target directory.",
        discussion: """
            Each backed-up path keeps its absolute structure: /data/x becomes TARGET/data/x. \
            Damaged content is never written: such files are reported and the rest restored (exit 3).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var latest: LatestIntactOptions

    @Argument(help: "Snapshot id (any unique prefix) or 'latest'.")
    var snapshot: String

    @Option(name: .long, help: "Directory to restore into (made if missing).")
    var target: String

    @Option(name: .long, help: "Restore only paths matching a glob (repeatable; with a '/' it matches snapshot paths, else names).")
    var include: [String] = []

    @Flag(name: .long, help: "Read every restored file back and compare it with the snapshot.")
    var verify = false

    @Flag(name: .long, help: "Write runs of zeros instead of leaving holes.")
    var noSparse = false

    func run() async throws {
        let repo = try await repository.open()
        let entry = try await latest.find(snapshot, in: repo)
        var options = RestoreOptions(target: target)
        options.includes = include
        options.verify = verify
        options.sparse = !noSparse
        let result = try await Restorer(repository: repo).restore(entry.snapshot, options: options)
        if output.json {
            try JSONOutput.print(
                RestoreJSON(
                    snapshotId: entry.id.hex, target: target, filesRestored: result.filesRestored,
                    directoriesRestored: result.directoriesRestored, otherEntriesRestored: result.otherEntriesRestored,
                    bytesWritten: result.bytesWritten, filesVerified: result.filesVerified, damagedFiles: result.damagedFiles,
                    errors: result.errors))
        } else {
            print("restored snapshot \(entry.id.shortHex) to \(target): \(result.filesRestored) files, \(result.directoriesRestored) directories, \(ByteFormat.string(result.bytesWritten))\(verify ? ", \(result.filesVerified) files verified" : "")")
        }
        for d in result.damagedFiles { FileHandle.standardError.write(Data("lifeboat: damaged, not restored: \(d)\n".utf8)) }
        for e in result.errors { FileHandle.standardError.write(Data("lifeboat: error: \(e)\n".utf8)) }
        if !result.isComplete {
            throw ExitCode(result.verificationFailures > 0 ? ExitStatus.verificationFailed.rawValue : ExitStatus.partial.rawValue)
        }
    }
}

struct RestoreJSON: Encodable {
    let snapshotId: String
    let target: String
    let filesRestored: Int
    let directoriesRestored: Int
    let otherEntriesRestored: Int
    let bytesWritten: Int64
    let filesVerified: Int
    let damagedFiles: [String]
    let errors: [String]
}
