import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct RecoverRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a plan's newest revision in the foreground, printing each step's progress.",
        discussion: """
            EXECUTE (the default) restores onto the targets: each restore is staged beside its \
            target and swapped in, what was there kept as <target>.before-<execution id>. --test \
            is a drill: restores go into a sandbox that is removed at the end, RUN_COMMAND and \
            HTTP_CHECK steps run only with runInTest: true (with LIFEBOAT_SANDBOX_<SOURCE>_PATH \
            naming each sandbox copy), NOTIFY says it is a drill. Waiting for an approval, it \
            prints the 'recover approve' command and waits. Interrupted (Ctrl-C, a crash), the \
            execution is resumable with 'recover resume ID'. Exit status 0 when it SUCCEEDED with \
            its RTO and RPO met, 3 when it succeeded with warnings or missed a target, 1 when it \
            FAILED or was cancelled, 130 when interrupted.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The plan's name.")
    var plan: String

    @Flag(name: .long, help: "A drill: restore into a sandbox, never touch production.")
    var test = false

    @Option(name: .long, help: "When the incident happened (ISO 8601; default: now): RTO and RPO count from it.")
    var incidentTime: String?

    @Option(name: .long, help: "Who runs it (default: this process's user).")
    var user: String?

    func validate() throws {
        if let incidentTime, RestoreDbCommand.parseTime(incidentTime) == nil {
            throw ValidationError("--incident-time \(incidentTime) is not a time like 2026-11-27T13:45:00Z")
        }
    }

    func run() async throws {
        var executor = RecoveryExecutor(context: try repository.context(for: "recover"))
        let options = repository
        executor.walFetch = { location in try options.walRestoreCommand(at: location.path) }
        let request = RecoveryExecutor.Request(
            plan: plan, mode: test ? .test : .execute, user: user, incidentTime: incidentTime.flatMap(RestoreDbCommand.parseTime))
        let id = try await executor.start(request)
        try await RecoverResumeCommand.drive(id, executor: executor, repository: repository, json: output.json)
    }
}
