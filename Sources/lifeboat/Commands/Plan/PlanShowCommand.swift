import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct PlanShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a plan's newest revision, or the one --revision names.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The plan's name.")
    var name: String

    @Option(name: .long, help: "The revision to show (default: the newest).")
    var revision: Int?

    func run() async throws {
        let shown = try await RecoveryPlans(context: try repository.context(for: "plan show")).show(name, revision: revision)
        let plan = shown.plan
        let stored = shown.revision
        if output.json {
            return try JSONOutput.print(
                PlanShowJSON(
                    name: stored.name, revision: stored.revision, createdAt: stored.createdAt, createdBy: stored.createdBy,
                    rtoSeconds: plan.rtoTarget.seconds, rpoSeconds: plan.rpo?.seconds, plan: plan, document: stored.document))
        }
        print("plan \(stored.name) revision \(stored.revision), stored \(ISO8601.format(stored.createdAt)) by \(stored.createdBy)")
        print("\(plan.systemType.rawValue): RTO \(plan.rtoTarget)\(plan.rto == nil ? " (the default)" : ""), RPO \(plan.rpo?.text ?? "not set")")
        if let d = plan.description { print(d) }
        for (i, step) in plan.steps.enumerated() {
            let after = step.after ?? (i > 0 ? [plan.steps[i - 1].name] : [])
            var flags: [String] = []
            if !step.isCritical { flags.append("non-critical") }
            if step.retryCount > 0 { flags.append("\(step.retryCount) retries") }
            if let t = step.timeout { flags.append("timeout \(t)") }
            if !step.runsInTest { flags.append("not in drills") }
            print(
                "  \(i + 1). \(step.name) \(step.type.rawValue)\(after.isEmpty ? "" : " after \(after.joined(separator: ", "))")\(flags.isEmpty ? "" : " (\(flags.joined(separator: ", ")))")")
        }
        if let every = plan.testing?.every { print("drilled every \(every)") }
    }
}

struct PlanShowJSON: Encodable {
    let name: String
    let revision: Int
    let createdAt: Date
    let createdBy: String
    let rtoSeconds: Int64
    let rpoSeconds: Int64?
    let plan: RecoveryPlan
    let document: String
}
