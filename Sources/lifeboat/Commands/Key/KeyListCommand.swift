import ArgumentParser
import Foundation
import LifeboatCore

struct KeyListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the key files.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let keys = try await KeyManager(repository: try await repository.open()).list()
        if output.json {
            try JSONOutput.print(keys)
        } else {
            for k in keys {
                print("\(k.isCurrent ? "*" : " ") \(k.name.name.prefix(8))  \(ISO8601.format(k.created).prefix(19))  \(k.username)@\(k.host)\(k.isWalOnly ? "  (WAL only)" : "")")
            }
        }
    }
}
