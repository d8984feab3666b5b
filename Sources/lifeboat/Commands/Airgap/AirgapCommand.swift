import ArgumentParser

struct AirgapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airgap", abstract: "Self-contained offline copies: export, verify, import.",
        subcommands: [AirgapExportCommand.self, AirgapVerifyCommand.self, AirgapImportCommand.self])
}
