import ArgumentParser

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit trail of the API and the console: list its events, verify its hash chain.",
        subcommands: [AuditListCommand.self, AuditVerifyCommand.self])
}
