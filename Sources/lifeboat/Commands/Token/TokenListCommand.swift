import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

struct TokenListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the tokens: name, role, created, expiry, revocation, last use (never the token).")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let access = AccessTokens(context: try repository.context(for: "token list"))
        let tokens = try await access.list()
        if output.json { return try JSONOutput.print(tokens.map { TokenListJSON($0, now: access.now()) }) }
        if tokens.isEmpty { return print("no tokens: create one with 'lifeboat token create --name NAME --role ROLE'") }
        let now = access.now()
        for t in tokens {
            let state = TokenListJSON.state(t, now: now)
            let expiry = t.expiresAt.map { ", expires \(ISO8601.format($0))" } ?? ""
            let revoked = t.revokedAt.map { ", revoked \(ISO8601.format($0))" } ?? ""
            let used = t.lastUsedAt.map { "last used \(ISO8601.format($0))" } ?? "never used"
            print("\(t.name) \(t.role) \(state): created \(ISO8601.format(t.createdAt)) by \(t.createdBy)\(expiry)\(revoked); \(used)")
        }
    }
}

