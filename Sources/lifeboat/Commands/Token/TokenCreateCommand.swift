import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

struct TokenCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a bearer token and print it, once.",
        discussion: "The token is printed once and cannot be shown again: the catalog keeps only its hash. Exit status: 0 created; 1 the name is taken or the catalog failed; 64 a bad role, name or lifetime.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "The token's name, unique, as the audit trail shows it (letters, digits, '.', '_', '-').")
    var name: String

    @Option(help: "admin, operator or auditor.")
    var role: String

    @Option(help: "How long the token is valid, such as 12h, 90d or 52w (default: until revoked).")
    var expires: String?

    func validate() throws {
        guard Role(rawValue: role) != nil else {
            throw ValidationError("--role must be admin, operator or auditor, not '\(role)'")
        }
        if let expires, !(1...AccessTokens.maxLifetime.components.seconds).contains(PlanDuration(expires)?.seconds ?? 0) {
            throw ValidationError("--expires '\(expires)' is not a lifetime: give a positive number with a unit, such as 12h, 90d or 52w, of at most 100 years")
        }
    }

    func run() async throws {
        // validate() has checked both.
        let role = Role(rawValue: role) ?? .auditor
        let lifetime = expires.flatMap(PlanDuration.init).map(\.duration)
        let made = try await AccessTokens(context: try repository.context(for: "token create")).create(name: name, role: role, lifetime: lifetime)
        if output.json {
            return try JSONOutput.print(TokenCreateJSON(token: made.token, record: made.record))
        }
        print(made.token)
        let expiry = made.record.expiresAt.map { "expires \(ISO8601.format($0))" } ?? "does not expire"
        FileHandle.standardError.write(
            Data("lifeboat: token '\(made.record.name)' (\(made.record.role)) created; it \(expiry). It cannot be shown again: store it now.\n".utf8))
    }
}

