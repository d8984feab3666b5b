import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct WalPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Store one WAL file (archive_command).",
        discussion: """
            Compresses and seals the file and returns 0 only once it is durable in the repository. \
            Pushing a file again with identical content succeeds without writing; a different file \
            under an archived name fails (exit 1) and leaves the archived one as it was. A cluster \
            restored beside production (restore-db without --as-production, a restoration test) \
            holds lifeboat.side-copy in its data directory: push refuses (exit 1) to archive from \
            it, so that its timeline never enters production's repository.
            """)
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The file (%p): a WAL segment, .history, .backup or .partial file.")
    var path: String

    func run() async throws {
        if let marker = SideCopyMarker.find(forWalFile: path) { throw PostgreSQLSourceError.sideCopyMustNotArchive(marker: marker) }
        let repo = try await repository.open(scope: .walArchive)
        _ = try await WalArchive(repository: repo).push(path: path, host: Requester.current.host, username: Requester.current.username)
    }
}
