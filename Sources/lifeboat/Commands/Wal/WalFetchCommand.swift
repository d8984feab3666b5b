import ArgumentParser
import Foundation
import LifeboatCore

struct WalFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch", abstract: "Write one archived WAL file to a path (restore_command).",
        discussion: "Exits 1 when the file is not archived (PostgreSQL asks for files that may not exist, and takes 1 as 'no such file').")
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The archived file's name (%f).")
    var name: String

    @Argument(help: "Where to write it (%p).")
    var path: String

    @Option(name: .long, help: "Also fetch the next N segments into --spool, and take segments from there first (restore-db sets this).")
    var prefetch: Int = 0

    @Option(name: .long, help: "A folder only the database's user can write, for --prefetch.")
    var spool: String?

    func validate() throws {
        if prefetch < 0 || prefetch > 64 { throw ValidationError("--prefetch must be between 0 and 64") }
        if prefetch > 0 && spool == nil { throw ValidationError("--prefetch needs --spool") }
    }

    func run() async throws {
        guard let file = WalFileName(name) else { throw WalArchiveError.notAWalFile(name) }
        if let spool, prefetch > 0 {
            try await WalArchive.fetchSpooled(file, to: path, spool: spool, count: prefetch) { try await repository.open(scope: .walArchive) }
            return
        }
        let repo = try await repository.open(scope: .walArchive)
        _ = try await WalArchive(repository: repo).fetch(file, to: path)
    }
}
