import ArgumentParser

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with lifeboat.yaml.", subcommands: [ConfigCheckCommand.self])
}
