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
        var options = try RepositoryOptions.parse([])
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
        commandName: "rotate", abstract: "Make a new master key and re-seal every data key under it, on every location (no data is rewritten).",
        discussion: """
            Only the passphrase used for the rotation keeps working; add others again with 'key add'. \
            With lifeboat.yaml, every other location but AIR_GAPPED is rotated too, so that the old \
            master key opens nothing anywhere. A location that cannot be reached, or a write-once \
            medium (which keeps its old key files), is reported and makes the exit status 3; \
            air-gapped bundles keep the keys they were exported with: export them again.
            """)
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("scrypt cost N (a power of two) for the new key.", visibility: .hidden))
    var kdfN: Int = KDFParameters.standard.n

    func run() async throws {
        let repo = try await repository.open()
        let passphrase = try repository.passphrase()
        var replicas: [Repository] = []
        var unreachable: [KeyManager.ReplicaRotation] = []
        if let config = try repository.configuration() {
            let here = try repository.location()
            for l in config.locations where l.role != .airGapped && l.path != here {
                do {
                    replicas.append(try await Repository.open(backend: try config.backend(for: l), passphrase: passphrase))
                } catch {
                    unreachable.append(KeyManager.ReplicaRotation(location: l.path, error: "\(error)"))
                }
            }
        }
        var report = try await KeyManager(repository: repo).rotate(
            passphrase: passphrase, kdf: KDFParameters(n: kdfN, r: 8, p: 1), host: Identity.host, username: Identity.username, replicas: replicas)
        report.replicas += unreachable
        if output.json {
            try JSONOutput.print(
                RotateJSON(
                    newKey: report.newKey.name, dataKeysResealed: report.dataKeysResealed, keyFilesRetired: report.keyFilesRetired,
                    locations: report.replicas.map {
                        RotateJSON.Location(location: $0.location, dataKeysResealed: $0.dataKeysResealed, keyFilesRetired: $0.keyFilesRetired, error: $0.error)
                    }))
        } else {
            print("rotated the master key: \(report.dataKeysResealed) data keys re-sealed, \(report.keyFilesRetired) key files retired, new key \(report.newKey.name.prefix(8))")
            for r in report.replicas {
                print(r.error.map { "  \(r.location): NOT ROTATED: \($0)" } ?? "  \(r.location): \(r.dataKeysResealed) data keys re-sealed, \(r.keyFilesRetired) key files retired")
            }
        }
        let incomplete = report.replicas.filter { $0.error != nil }
        if !incomplete.isEmpty {
            FileHandle.standardError.write(Data("lifeboat: warning: the old master key still opens \(incomplete.map(\.location).joined(separator: ", "))\n".utf8))
            throw ExitCode(ExitStatus.partial.rawValue)
        }
    }
}

struct RotateJSON: Encodable {
    struct Location: Encodable {
        let location: String
        let dataKeysResealed: Int
        let keyFilesRetired: Int
        let error: String?
    }
    let newKey: String
    let dataKeysResealed: Int
    let keyFilesRetired: Int
    let locations: [Location]
}
