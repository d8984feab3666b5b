import ArgumentParser
import CLinux
import Foundation
import LifeboatCore

@main
struct Lifeboat: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "lifeboat",
        abstract: "Encrypted, deduplicating, verified backups with tested restores.",
        discussion: ExitStatus.helpText,
        version: version,
        subcommands: [
            InitCommand.self, BackupCommand.self, SnapshotsCommand.self, RestoreCommand.self, RestoreDbCommand.self, LsCommand.self,
            DiffCommand.self, CheckCommand.self, VerifyCommand.self, ForgetCommand.self, PruneCommand.self, KeyCommand.self,
            ReplicateCommand.self, AirgapCommand.self, LocationsCommand.self, ConfigCommand.self,
            WalCommand.self, RestoreTestCommand.self, RunCommand.self, LogCommand.self, CatalogCommand.self, QuickstartCommand.self,
            DumpCommand.self, FindCommand.self, StatsCommand.self,
            PlanCommand.self, RecoverCommand.self, ReportCommand.self,
            ServeCommand.self, StatusCommand.self,
            TokenCommand.self, AuditCommand.self,
        ]
    )

    /// Errors become exit statuses here and only here (docs/cli.md has the table).
    static func main() async {
        MemoryTuning.apply()
        CLILogging.bootstrap()
        if let threads = ProcessInfo.processInfo.environment["LIFEBOAT_IO_THREADS"].flatMap(Int.init), threads > 0 {
            BlockingIOQueue.configure(threads: threads)
        }
        do {
            let command = try parseAsRoot()
            if let serve = command as? ServeCommand {
                // The daemon's ServiceGroup handles SIGTERM and SIGINT itself, gracefully.
                try await serve.run()
            } else if let quickstart = command as? QuickstartCommand, quickstart.serve {
                // So does the daemon quickstart --serve ends with (its story before works in
                // a scratch folder of its own, which a signal may end at any point).
                try await quickstart.run()
            } else {
                try await InterruptHandling.run(command)
            }
            await CLIResources.shutdown()
        } catch let exit as ExitCode {
            await CLIResources.shutdown()
            Foundation.exit(exit.rawValue)
        } catch {
            await CLIResources.shutdown()
            let json = ExitStatus.wantsJSON(CommandLine.arguments)
            if let status = ExitStatus(for: error) {
                ExitStatus.report(status: status, code: status.rawValue, message: ExitStatus.message(for: error), json: json)
                Foundation.exit(status.rawValue)
            }
            // Argument-parser's own errors: help and version (0) as it prints them; usage (64)
            // and the like as a JSON object when asked for.
            let code = exitCode(for: error).rawValue
            if json && code != 0 {
                ExitStatus.report(status: ExitStatus(rawValue: code) ?? .failure, code: code, message: message(for: error), json: true)
                Foundation.exit(code)
            }
            exit(withError: error)
        }
    }
}

/// The first SIGINT or SIGTERM cancels the running command, which stops between files,
/// releases its lock and exits 130; a second one exits at once.
enum InterruptHandling {
    static func run(_ command: any ParsableCommand) async throws {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        let box = CommandBox(command: command)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                var command = box.command
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
                return true
            }
            group.addTask {
                var iterator = signals.makeAsyncIterator()
                guard await iterator.next() != nil else { return false }
                FileHandle.standardError.write(Data("lifeboat: interrupted, stopping (press Ctrl-C again to stop at once)\n".utf8))
                Task.detached {
                    // A second signal: the user wants out now, whatever state we are in.
                    var rest = iterator
                    if await rest.next() != nil { Foundation.exit(ExitStatus.interrupted.rawValue) }
                }
                return false
            }
            // The command finished, or a signal came first (false): then the command is
            // cancelled and awaited, and whatever it ends with is an interruption, told in
            // the command's own words when it has some (BackupInterruption).
            let finished = try await group.next() ?? true
            group.cancelAll()
            continuation.finish()
            if finished { return }
            do {
                _ = try await group.next()
            } catch let interrupted as BackupInterruption {
                throw interrupted
            } catch {
                throw CancellationError()
            }
            throw CancellationError()
        }
    }
}

/// Carries the parsed command into the task that runs it. @unchecked Sendable: the
/// command is used by that task only, after this task handed it over.
private struct CommandBox: @unchecked Sendable {
    let command: any ParsableCommand
}
