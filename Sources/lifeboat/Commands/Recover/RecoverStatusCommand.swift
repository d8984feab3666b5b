import ArgumentParser
import Foundation
import LifeboatOperations

struct RecoverStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show an execution: its status, RTO and RPO against the targets, and each step with its log.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The execution's id (or a unique prefix of it).")
    var id: String

    func run() async throws {
        let executor = RecoveryExecutor(context: try repository.context(for: "recover status"))
        let record = try await executor.status(try await executor.resolve(id))
        if output.json { try JSONOutput.print(RecoveryOutput.JSON(record)) } else { print(RecoveryOutput.status(record)) }
    }
}
