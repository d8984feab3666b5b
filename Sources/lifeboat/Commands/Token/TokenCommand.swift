import ArgumentParser

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Bearer tokens of the API and the console: create (shown once), list, revoke.",
        discussion: """
            Roles: auditor reads everything and the reports; operator also performs backups, runs drills and approves \
            steps; admin also creates plans, executes recoveries against production and manages tokens. The catalog \
            keeps only a hash of each token.
            """,
        subcommands: [TokenCreateCommand.self, TokenListCommand.self, TokenRevokeCommand.self])
}
