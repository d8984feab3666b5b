import ArgumentParser
import LifeboatCore
import LifeboatOperations

struct KeyAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a passphrase.",
        discussion: """
            With --wal-only, the passphrase opens archived WAL and nothing else: 'wal push', 'wal fetch' and \
            'wal list' work with it, every other verb refuses it (exit 12). Give it to the database's \
            archive_command and restore_command instead of a passphrase that decrypts every backup. \
            It takes the exclusive lock for a moment. 'key rotate' retires WAL-only keys with the others.
            """)
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var newPassphrase: NewPassphraseOptions

    @Flag(name: .long, help: "A passphrase that can push and fetch WAL only.")
    var walOnly = false

    func run() async throws {
        let repo = try await repository.open()
        let me = Requester.current
        let manager = KeyManager(repository: repo)
        let passphrase = try newPassphrase.passphrase()
        let name =
            walOnly
            ? try await manager.addWalOnly(passphrase: passphrase, kdf: newPassphrase.kdf, host: me.host, username: me.username)
            : try await manager.add(passphrase: passphrase, kdf: newPassphrase.kdf, host: me.host, username: me.username)
        print("added \(walOnly ? "WAL-only " : "")key \(name.name.prefix(8))")
    }
}
