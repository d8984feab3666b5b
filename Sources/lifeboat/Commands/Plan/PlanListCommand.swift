import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct PlanListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the plans: newest revision, targets, last drill, next drill due, overdue.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let plans = try await RecoveryPlans(context: try repository.context(for: "plan list")).list()
        if output.json { return try JSONOutput.print(plans) }
        if plans.isEmpty { return print("no plans: add one with 'lifeboat plan create FILE'") }
        for p in plans {
            let drill = p.lastDrill.map { "last drill \(ISO8601.format($0))" } ?? "never drilled"
            let due = p.nextDrillDue.map { ", next due \(ISO8601.format($0))\(p.isOverdue ? " (OVERDUE)" : "")" } ?? ""
            print(
                "\(p.name) r\(p.revision) \(p.systemType) RTO \(PlanDuration.format(p.rtoSeconds))\(p.rpoSeconds.map { " RPO \(PlanDuration.format($0))" } ?? "") \(p.steps) steps; \(drill)\(due)")
        }
    }
}
