import ArgumentParser
import Foundation
import LifeboatOperations

struct PlanCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Check a plan file and store it in the catalog: a new plan, or a new revision of it.",
        discussion: "Every revision is kept. A file whose text equals the newest revision's stores nothing.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The plan file (YAML or JSON).")
    var file: String

    func run() async throws {
        let made = try await RecoveryPlans(context: try repository.context(for: "plan create")).create(file: file)
        if output.json {
            try JSONOutput.print(
                PlanCreateJSON(name: made.plan.name, revision: made.revision.revision, created: made.isNew, createdAt: made.revision.createdAt))
        } else if made.isNew {
            print("plan '\(made.plan.name)' revision \(made.revision.revision) stored")
        } else {
            print("plan '\(made.plan.name)' unchanged: revision \(made.revision.revision) holds the same text")
        }
    }
}

struct PlanCreateJSON: Encodable {
    let name: String
    let revision: Int
    let created: Bool
    let createdAt: Date
}
