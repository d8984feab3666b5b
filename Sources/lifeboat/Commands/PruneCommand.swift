import ArgumentParser
import Foundation
import LifeboatCore

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove data no snapshot refers to, repacking packs that are mostly unused.",
        discussion: "Takes the exclusive lock: backups that start meanwhile stop with exit 11.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Flag(help: "Show what would be removed; change nothing.") var dryRun = false

    func run() async throws {
        let repo = try await repository.open()
        let report = try await Pruner(repository: repo).prune(dryRun: dryRun, host: Identity.host, username: Identity.username)
        if output.json {
            try JSONOutput.print(PruneJSON(report))
        } else {
            Self.printText(report)
        }
    }

    static func printText(_ r: Pruner.Report) {
        print("\(r.isDryRun ? "would delete" : "deleted") \(r.packsDeleted) unused packs and \(r.unindexedPacksDeleted) unindexed ones, \(r.isDryRun ? "would repack" : "repacked") \(r.packsRepacked) into \(r.packsWritten), kept \(r.packsKept); \(r.blobsRemoved) blobs removed")
        print("packs: \(ByteFormat.string(r.bytesBefore)) before, \(ByteFormat.string(r.bytesAfter)) after")
        if r.temporariesRemoved > 0 { print("removed \(r.temporariesRemoved) half-written files of interrupted writers") }
        if r.walFilesDeleted > 0 {
            print("WAL: \(r.isDryRun ? "would delete" : "deleted") \(r.walFilesDeleted) files older than every base backup (\(ByteFormat.string(r.walBytesDeleted)))")
        }
    }
}

struct PruneJSON: Encodable {
    let dryRun: Bool
    let packsKept: Int
    let packsDeleted: Int
    let packsRepacked: Int
    let packsWritten: Int
    let unindexedPacksDeleted: Int
    let blobsRemoved: Int
    let bytesBefore: Int64
    let bytesAfter: Int64
    let walFilesDeleted: Int
    let walBytesDeleted: Int64
    let temporariesRemoved: Int

    init(_ r: Pruner.Report) {
        dryRun = r.isDryRun
        packsKept = r.packsKept
        packsDeleted = r.packsDeleted
        packsRepacked = r.packsRepacked
        packsWritten = r.packsWritten
        unindexedPacksDeleted = r.unindexedPacksDeleted
        blobsRemoved = r.blobsRemoved
        bytesBefore = r.bytesBefore
        bytesAfter = r.bytesAfter
        walFilesDeleted = r.walFilesDeleted
        walBytesDeleted = r.walBytesDeleted
        temporariesRemoved = r.temporariesRemoved
    }
}
