import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

struct TokenRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a token: it is refused from now on (its name stays in the list and the audit trail).",
        discussion: "Exit status: 0 revoked (or revoked already); 1 no token of that name.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The token's name.")
    var name: String

    func run() async throws {
        let access = AccessTokens(context: try repository.context(for: "token revoke"))
        let token = try await access.revoke(name: name)
        if output.json { return try JSONOutput.print(TokenListJSON(token, now: access.now())) }
        print("token '\(token.name)' revoked at \(ISO8601.format(token.revokedAt ?? access.now()))")
    }
}
