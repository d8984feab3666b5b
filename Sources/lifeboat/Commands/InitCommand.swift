import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct InitJSON: Encodable {
    let id: String
    let location: String
    let version: Int
}

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a repository in an empty or new directory (the PRIMARY location).")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("scrypt cost N (a power of two) for the new key.", visibility: .hidden))
    var kdfN: Int = KDFParameters.standard.n

    func run() async throws {
        let backend = try await repository.backend(create: true)
        let passphrase = try repository.passphrase(confirm: true)
        let repo = try await Repository.initialize(
            backend: backend, passphrase: passphrase, kdf: KDFParameters(n: kdfN, r: 8, p: 1), host: Requester.current.host,
            username: Requester.current.username)
        if output.json {
            try JSONOutput.print(InitJSON(id: repo.config.id, location: repo.location, version: repo.config.version))
        } else {
            print("created repository \(repo.config.id.prefix(8)) at \(repo.location)")
            print("keep the passphrase safe: without it the data cannot be read")
        }
    }
}
