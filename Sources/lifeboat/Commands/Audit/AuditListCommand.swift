import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

struct AuditListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List audit events, newest first: time, token and role, address, call, status, outcome, target.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Only events since: an ISO 8601 time (2026-11-27T10:00:00Z) or a duration ago (36h, 7d, 2w).")
    var since: String?

    @Option(help: "Only events of this token (by name).")
    var token: String?

    @Option(help: "Only events with this outcome: ok, unauthorized, forbidden, rate-limited, rejected, failed.")
    var outcome: String?

    @Option(help: "At most this many (the newest).")
    var limit: Int?

    static let outcomes = ["ok", "unauthorized", "forbidden", "rate-limited", "rejected", "failed"]

    func validate() throws {
        if let since, LogCommand.parseSince(since, now: Date()) == nil {
            throw ValidationError("--since '\(since)' is neither an ISO 8601 time nor a duration like 36h or 7d")
        }
        if let outcome, !Self.outcomes.contains(outcome) {
            throw ValidationError("--outcome must be one of \(Self.outcomes.joined(separator: ", ")), not '\(outcome)'")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, not \(limit)") }
    }

    func run() async throws {
        let filter = AuditFilter(since: since.flatMap { LogCommand.parseSince($0, now: Date()) }, tokenName: token, outcome: outcome, limit: limit)
        let events = try await AuditTrail(context: try repository.context(for: "audit list")).list(filter)
        if output.json { return try JSONOutput.print(events.map(AuditEventJSON.init)) }
        if events.isEmpty { return print("no audit events match") }
        for e in events {
            let who = e.tokenName.map { "\($0)\(e.role.map { " (\($0))" } ?? "")" } ?? "anonymous"
            let target = e.target.map { " -> \($0)" } ?? ""
            let detail = e.detail.map { ": \($0)" } ?? ""
            print("\(e.sequence) \(ISO8601.format(e.at)) \(who) from \(e.address) \(e.method) \(e.route) \(e.status) \(e.outcome)\(target)\(detail)")
        }
    }
}

