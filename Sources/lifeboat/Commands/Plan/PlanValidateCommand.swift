import ArgumentParser
import Foundation
import LifeboatOperations

struct PlanValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a plan file (YAML or JSON) against lifeboat.yaml without storing it.",
        discussion: """
            Refused, with the file, the line and what was expected: a field a plan or step does \
            not have, a step without the fields its type needs, two steps with one name, a \
            source, location or webhook lifeboat.yaml lacks, an after: naming no step of the \
            plan, and after: lists that make a cycle.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The plan file.")
    var file: String

    func run() async throws {
        let plan = try RecoveryPlans(context: try repository.context(for: "plan validate")).validate(file: file)
        print("plan '\(plan.name)' is valid: \(plan.steps.count) steps, \(plan.systemType.rawValue), RTO \(plan.rtoTarget)\(plan.rpo.map { ", RPO \($0)" } ?? "")")
    }
}
