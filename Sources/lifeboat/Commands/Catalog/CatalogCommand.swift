import ArgumentParser

struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Work with the catalog (the BackupLog).", subcommands: [CatalogRebuildCommand.self])
}
