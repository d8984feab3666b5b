import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations

/// `lifeboat log`: the BackupLog, newest first.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show the BackupLog: each run's status, checks, copies per location and restoration test.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "Only this source.") var source: String?
    @Option(name: .long, help: "Only this status: \(BackupStatus.allCases.map(\.rawValue).joined(separator: ", ")).") var status: String?
    @Option(name: .long, help: "Only runs started since: an ISO 8601 time (2026-11-27T10:00:00Z) or a duration ago (36h, 7d, 2w).") var since: String?
    @Option(name: .long, help: "At most this many rows.") var limit: Int?

    func validate() throws {
        if let status, BackupStatus(rawValue: status.uppercased()) == nil {
            throw ValidationError("--status '\(status)' is not one of \(BackupStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let since, Self.parseSince(since, now: Date()) == nil {
            throw ValidationError("--since '\(since)' is neither an ISO 8601 time nor a duration like 36h or 7d")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let context = try repository.context(for: "log")
        let filter = BackupFilter(
            source: source, status: status.flatMap { BackupStatus(rawValue: $0.uppercased()) }, since: since.flatMap { Self.parseSince($0, now: Date()) },
            limit: limit)
        let records = try await context.withCatalog { catalog in
            try await catalog.markInterrupted(host: context.requester.host)
            return try await catalog.backups(filter)
        }
        if output.json {
            try JSONOutput.print(records)
            return
        }
        if records.isEmpty { print("no backups recorded in \(try context.catalogLocation())") }
        for r in records {
            print(Self.line(r))
            let copies = r.locations.map { "\($0.location)=\($0.status.rawValue)" }.joined(separator: " ")
            let test = r.restoreTest.tested
                ? "restore test \(r.restoreTest.result ?? "?") in \(String(format: "%.1f", r.restoreTest.durationSeconds ?? 0)) s\(r.restoreTest.location.map { " from \($0)" } ?? "")"
                : "not restore-tested"
            print("    pre-check \(r.preCheck.map { $0.passed ? "passed" : "FAILED" } ?? "-"), post-check \(r.postCheck.map { $0.passed ? "passed" : "FAILED" } ?? "-"); \(copies.isEmpty ? "no copies" : copies); \(test)")
            if let error = r.error, r.status != .succeeded { print("    \(error)") }
            if !r.locations.isEmpty {
                print("    last pruned: \(r.locations.map { "\($0.location) \($0.lastPrunedAt.map { String(ISO8601.format($0).prefix(19)) } ?? "never")" }.joined(separator: ", "))")
            }
        }
    }

    /// One line per run: when, what, how it ended.
    static func line(_ r: BackupRecord) -> String {
        let duration = r.durationSeconds.map { String(format: "%.1f s", $0) } ?? "running"
        let added = r.bytesAdded.map { "+\(ByteFormat.string($0))" } ?? ""
        return "\(ISO8601.format(r.startedAt).prefix(19))  \(r.status.rawValue.padding(toLength: 19, withPad: " ", startingAt: 0)) \(r.type.padding(toLength: 15, withPad: " ", startingAt: 0)) \(r.source)  \(r.snapshotId.map { String($0.prefix(8)) } ?? "--------")  \(duration) \(added)"
    }

    static func parseSince(_ text: String, now: Date) -> Date? {
        if let d = ISO8601.parse(text) { return d }
        if let d = RetentionPolicy.parseDuration(text) { return now.addingTimeInterval(-d.seconds) }
        return nil
    }
}
