import ArgumentParser
import Foundation
import LifeboatOperations

struct RecoverCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel an execution: its executor stops the running step and records CANCELLED; one no executor holds is CANCELLED at once.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The execution's id (or a unique prefix of it).")
    var id: String

    func run() async throws {
        let executor = RecoveryExecutor(context: try repository.context(for: "recover cancel"))
        let record = try await executor.cancel(try await executor.resolve(id))
        let name = record.id.uuidString.lowercased()
        print(record.status == .cancelled ? "execution \(name) CANCELLED" : "cancel requested: the executor of \(name) stops at its next look at the catalog")
    }
}
