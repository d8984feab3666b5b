import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct PlanRunbookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Write a plan's runbook: every step by hand, where the copies are, how to open them, who to call, what to notify and by when.",
        discussion: "Markdown (the default) or one self-contained HTML page that prints well; on stdout unless --output names a file.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The plan's name.")
    var name: String

    @Option(name: .long, help: "markdown (default) or html.")
    var format: RecoveryDocument.Format = .markdown

    @Option(name: .long, help: "When the incident happened (ISO 8601): deadlines become dates.")
    var incidentTime: String?

    @Option(name: .long, help: "Write it to this file instead of stdout.")
    var output: String?

    func validate() throws {
        if let incidentTime, RestoreDbCommand.parseTime(incidentTime) == nil {
            throw ValidationError("--incident-time \(incidentTime) is not a time like 2026-11-27T13:45:00Z")
        }
    }

    func run() async throws {
        let document = try await RecoveryPlans(context: try repository.context(for: "plan runbook")).runbook(
            name, incidentTime: incidentTime.flatMap(RestoreDbCommand.parseTime))
        try DocumentOutput.write(document.rendered(as: format), to: output)
    }
}

extension RecoveryDocument.Format: ExpressibleByArgument {}
