import ArgumentParser
import LifeboatCore
import LifeboatOperations

struct KeyAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a passphrase.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var newPassphrase: NewPassphraseOptions

    func run() async throws {
        let repo = try await repository.open()
        let me = Requester.current
        let name = try await KeyManager(repository: repo).add(passphrase: try newPassphrase.passphrase(), kdf: newPassphrase.kdf, host: me.host, username: me.username)
        print("added key \(name.name.prefix(8))")
    }
}
