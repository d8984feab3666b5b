import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct RecoverResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue an interrupted execution from its unfinished steps (finished steps never run again).",
        discussion: "Refused while the execution's executor is alive and holds its lease. Exit statuses as for 'recover'.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The execution's id (or a unique prefix of it).")
    var id: String

    func run() async throws {
        var executor = RecoveryExecutor(context: try repository.context(for: "recover resume"))
        let options = repository
        executor.walFetch = { location in try options.walRestoreCommand(at: location.path) }
        try await Self.drive(try await executor.resolve(id), executor: executor, repository: repository, json: output.json)
    }

    /// Runs an execution to its end with progress lines, and exits with its status.
    static func drive(_ id: UUID, executor: RecoveryExecutor, repository: RepositoryOptions, json: Bool) async throws {
        let options = repository
        let shortID = id.uuidString.lowercased()
        let record = try await executor.run(
            id, passphrase: { try options.passphrase() },
            events: { event in
                if case .waitingForApproval(let step) = event {
                    RecoveryOutput.line("step \(step): waiting for approval: lifeboat recover approve \(shortID) \(step)", json: json)
                } else {
                    RecoveryOutput.render(event, json: json)
                }
            })
        if json { try JSONOutput.print(RecoveryOutput.JSON(record)) } else { RecoveryOutput.line(RecoveryOutput.summary(record), json: false) }
        let status = ExitStatus(recovery: record)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
