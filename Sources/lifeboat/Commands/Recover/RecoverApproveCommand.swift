import ArgumentParser
import Foundation
import LifeboatOperations

struct RecoverApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a MANUAL_APPROVAL step that waits; the execution goes on.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The execution's id (or a unique prefix of it).")
    var id: String

    @Argument(help: "The step's name.")
    var step: String

    @Option(name: .long, help: "Who approves (default: this process's user).")
    var user: String?

    @Option(name: .long, help: "Why, for the record.")
    var comment: String?

    func run() async throws {
        let executor = RecoveryExecutor(context: try repository.context(for: "recover approve"))
        let execution = try await executor.resolve(id)
        try await executor.approve(execution, step: step, user: user, comment: comment)
        print("approved step \(step) of execution \(execution.uuidString.lowercased())")
    }
}
