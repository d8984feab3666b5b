import ArgumentParser
import LifeboatCore

struct KeyRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a passphrase (not the one in use, not the last).")
    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The key's id or a unique prefix of it.") var id: String

    func run() async throws {
        let name = try await KeyManager(repository: try await repository.open()).remove(prefix: id)
        print("removed key \(name.name.prefix(8))")
    }
}
