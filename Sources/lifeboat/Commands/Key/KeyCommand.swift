import ArgumentParser
import Foundation
import LifeboatCore

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Manage the repository's passphrases and master key.",
        subcommands: [KeyListCommand.self, KeyAddCommand.self, KeyRemoveCommand.self, KeyPasswdCommand.self, KeyRotateCommand.self])
}

/// The new passphrase of `key add` and `key passwd`: from a file, or typed twice on a terminal.
struct NewPassphraseOptions: ParsableArguments {
    @Option(name: .long, help: "File whose first line is the new passphrase.")
    var newPasswordFile: String?

    @Option(help: ArgumentHelp("scrypt cost N (a power of two) for the new key.", visibility: .hidden))
    var kdfN: Int = KDFParameters.standard.n

    func passphrase() throws -> String {
        var options = RepositoryOptions()
        options.passwordFile = newPasswordFile
        guard newPasswordFile != nil || isatty(0) == 1 else {
            throw CLIError("no new passphrase: use --new-password-file")
        }
        return try options.passphrase(confirm: true, ignoringEnvironment: true)
    }

    var kdf: KDFParameters { KDFParameters(n: kdfN, r: 8, p: 1) }
}

struct KeyListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the key files.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let keys = try await KeyManager(repository: try await repository.open()).list()
        if output.json {
            try JSONOutput.print(keys.map { KeyJSON(id: $0.name.name, created: $0.created, host: $0.host, username: $0.username, current: $0.isCurrent) })
        } else {
            for k in keys {
                print("\(k.isCurrent ? "*" : " ") \(k.name.name.prefix(8))  \(ISO8601.format(k.created).prefix(19))  \(k.username)@\(k.host)")
            }
        }
    }
}

struct KeyJSON: Encodable {
    let id: String
    let created: Date
    let host: String
    let username: String
    let current: Bool
}

struct KeyAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a passphrase.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var newPassphrase: NewPassphraseOptions

    func run() async throws {
        let repo = try await repository.open()
        let name = try await KeyManager(repository: repo).add(
            passphrase: try newPassphrase.passphrase(), kdf: newPassphrase.kdf, host: Identity.host, username: Identity.username)
        print("added key \(name.name.prefix(8))")
    }
}

struct KeyRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a passphrase (not the one in use, not the last).")
    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The key's id or a unique prefix of it.") var id: String

    func run() async throws {
        let name = try await KeyManager(repository: try await repository.open()).remove(prefix: id)
        print("removed key \(name.name.prefix(8))")
    }
}

struct KeyPasswdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "passwd", abstract: "Change the passphrase in use.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var newPassphrase: NewPassphraseOptions

    func run() async throws {
        let repo = try await repository.open()
        let name = try await KeyManager(repository: repo).changePassphrase(
            to: try newPassphrase.passphrase(), kdf: newPassphrase.kdf, host: Identity.host, username: Identity.username)
        print("changed the passphrase: key \(name.name.prefix(8)) replaces \(repo.keyName?.name.prefix(8) ?? "?")")
    }
}

struct KeyRotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Make a new master key and re-seal every data key under it (no data is rewritten).",
        discussion: "Only the passphrase used for the rotation keeps working; add others again with 'key add'.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("scrypt cost N (a power of two) for the new key.", visibility: .hidden))
    var kdfN: Int = KDFParameters.standard.n

    func run() async throws {
        let repo = try await repository.open()
        let report = try await KeyManager(repository: repo).rotate(
            passphrase: try repository.passphrase(), kdf: KDFParameters(n: kdfN, r: 8, p: 1), host: Identity.host, username: Identity.username)
        if output.json {
            try JSONOutput.print(["newKey": report.newKey.name, "dataKeysResealed": "\(report.dataKeysResealed)", "keyFilesRetired": "\(report.keyFilesRetired)"])
        } else {
            print("rotated the master key: \(report.dataKeysResealed) data keys re-sealed, \(report.keyFilesRetired) key files retired, new key \(report.newKey.name.prefix(8))")
        }
    }
}
