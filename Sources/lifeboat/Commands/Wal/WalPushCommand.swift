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
            under an archived name fails (exit 1) and leaves the archived one as it was.
            """)
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The file (%p): a WAL segment, .history, .backup or .partial file.")
    var path: String

    func run() async throws {
        let repo = try await repository.open(scope: .walArchive)
        _ = try await WalArchive(repository: repo).push(path: path, host: Requester.current.host, username: Requester.current.username)
    }
}
