import ArgumentParser
import Foundation

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with lifeboat.yaml.", subcommands: [ConfigCheckCommand.self])
}

struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate the configuration without running anything.")
    @OptionGroup var repository: RepositoryOptions

    func run() async throws {
        guard let config = try repository.configuration() else {
            throw CLIError("no configuration: pass --config FILE, set LIFEBOAT_CONFIG, or create ./lifeboat.yaml")
        }
        print("configuration is valid: \(config.locations.count) locations (\(config.locations.map { "\($0.name) \($0.role.rawValue)" }.joined(separator: ", ")))")
    }
}
