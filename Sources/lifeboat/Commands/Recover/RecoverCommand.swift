import ArgumentParser

/// `lifeboat recover NAME` runs a plan (the default subcommand); the others follow and steer executions.
struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover", abstract: "Run a disaster-recovery plan (or drill it with --test), and follow, approve, resume or cancel its executions.",
        subcommands: [
            RecoverRunCommand.self, RecoverStatusCommand.self, RecoverListCommand.self, RecoverResumeCommand.self, RecoverApproveCommand.self,
            RecoverCancelCommand.self,
        ],
        defaultSubcommand: RecoverRunCommand.self)
}
