import ArgumentParser

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Disaster-recovery plans: check, store (every revision kept), list and show them.",
        subcommands: [PlanValidateCommand.self, PlanCreateCommand.self, PlanListCommand.self, PlanShowCommand.self, PlanRunbookCommand.self])
}
