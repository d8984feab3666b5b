import ArgumentParser
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
            InitCommand.self, BackupCommand.self, SnapshotsCommand.self, RestoreCommand.self, LsCommand.self,
            DiffCommand.self, CheckCommand.self, VerifyCommand.self, QuickstartCommand.self,
        ]
    )

    /// Errors become exit statuses here and only here (docs/cli.md has the table).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            if let status = ExitStatus(for: error) {
                FileHandle.standardError.write(Data("lifeboat: \(ExitStatus.message(for: error))\n".utf8))
                Foundation.exit(status.rawValue)
            }
            // Argument-parser's own errors: help, version, usage (64).
            exit(withError: error)
        }
    }
}
