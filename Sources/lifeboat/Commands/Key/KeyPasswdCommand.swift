import ArgumentParser
import LifeboatCore
import LifeboatOperations

struct KeyPasswdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "passwd", abstract: "Change the passphrase in use.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var newPassphrase: NewPassphraseOptions

    func run() async throws {
        let repo = try await repository.open()
        let me = Requester.current
        let name = try await KeyManager(repository: repo).changePassphrase(
            to: try newPassphrase.passphrase(), kdf: newPassphrase.kdf, host: me.host, username: me.username)
        print("changed the passphrase: key \(name.name.prefix(8)) replaces \(repo.keyName?.name.prefix(8) ?? "?")")
    }
}
