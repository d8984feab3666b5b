import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct RecoverListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List executions, newest first.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "Only this plan's executions.")
    var plan: String?

    func run() async throws {
        let records = try await RecoveryExecutor(context: try repository.context(for: "recover list")).list(plan: plan)
        if output.json { return try JSONOutput.print(records.map(RecoveryOutput.JSON.init)) }
        if records.isEmpty { return print("no executions\(plan.map { " of plan \($0)" } ?? "")") }
        for r in records {
            print("\(ISO8601.format(r.createdAt)) \(r.plan) r\(r.revision) \(r.mode.rawValue) \(RecoveryOutput.summary(r))")
        }
    }
}
