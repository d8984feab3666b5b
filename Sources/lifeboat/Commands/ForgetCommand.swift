import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct ForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget the snapshots named, or those a retention policy does not keep; with --prune, remove the data no snapshot needs.",
        discussion: """
            With snapshot ids, exactly those are forgotten. Otherwise snapshots (those the filters \
            select) are grouped by host, paths and source; in each group a snapshot is kept when any \
            --keep rule wants it. Without ids or rules nothing is forgotten.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var pruneOptions: PruneOptions
    @OptionGroup(title: "Filters (with --keep rules: the policy applies only to the snapshots they select)") var filters: SnapshotFilterOptions

    @Argument(help: "Snapshots to forget (unique id prefixes); without them, the --keep rules choose.") var snapshots: [String] = []

    @Option(help: "Keep the N newest snapshots.") var keepLast = 0
    @Option(help: "Keep the newest snapshot of each of the last N hours.") var keepHourly = 0
    @Option(help: "Keep the newest snapshot of each of the last N days.") var keepDaily = 0
    @Option(help: "Keep the newest snapshot of each of the last N weeks.") var keepWeekly = 0
    @Option(help: "Keep the newest snapshot of each of the last N months.") var keepMonthly = 0
    @Option(help: "Keep the newest snapshot of each of the last N years.") var keepYearly = 0
    @Option(help: "Keep snapshots within DURATION of the newest (e.g. 36h, 7d, 2w, 6m, 1y).") var keepWithin: String?
    @Option(help: "Keep snapshots with this tag (repeatable).") var keepTag: [String] = []
    @Flag(help: "Show what would be forgotten; change nothing.") var dryRun = false
    @Flag(help: "Prune afterwards.") var prune = false
    @Option(help: "Apply to this location of lifeboat.yaml, with its retention unless --keep rules are given.") var location: String?

    func validate() throws {
        if let keepWithin, RetentionPolicy.parseDuration(keepWithin) == nil {
            throw ValidationError("--keep-within '\(keepWithin)' is not a duration like 36h, 7d, 2w, 6m or 1y")
        }
        for (name, value) in [("last", keepLast), ("hourly", keepHourly), ("daily", keepDaily), ("weekly", keepWeekly), ("monthly", keepMonthly), ("yearly", keepYearly)] where value < 0 {
            throw ValidationError("--keep-\(name) cannot be negative")
        }
        guard !snapshots.isEmpty else { return }
        if !keepPolicy.isEmpty {
            throw ValidationError("give snapshot ids or --keep rules, not both: ids are forgotten as named, rules choose among the others")
        }
        if !filters.filter.isEmpty {
            throw ValidationError("--source, --tag, --host, --path and --type select snapshots for --keep rules: with snapshot ids, leave them out")
        }
    }

    private var keepPolicy: RetentionPolicy {
        RetentionPolicy(
            last: keepLast, hourly: keepHourly, daily: keepDaily, weekly: keepWeekly, monthly: keepMonthly, yearly: keepYearly,
            within: keepWithin.flatMap(RetentionPolicy.parseDuration), tags: keepTag)
    }

    func run() async throws {
        var policy = keepPolicy
        let repo: Repository
        if let location {
            let context = try repository.context(for: "--location")
            let l = try context.configuration.location(named: location)
            if policy.isEmpty, snapshots.isEmpty, let retention = try context.configuration.retentionPolicy(of: l) { policy = retention }
            repo = try await context.repository(in: l, passphrase: try repository.passphrase())
        } else {
            repo = try await repository.open()
        }
        let outcome = try await ForgetOperation(requester: .current).run(
            repo, selection: snapshots.isEmpty ? .policy(policy, filters.filter) : .named(snapshots), dryRun: dryRun, prune: prune,
            packGracePeriod: pruneOptions.gracePeriod ?? Pruner.defaultPackGracePeriod, maxUnused: pruneOptions.unusedLimit ?? .default)
        let plan = outcome.plan
        let pruneReport = outcome.prune
        if output.json {
            try JSONOutput.print(
                ForgetJSON(
                    dryRun: dryRun,
                    snapshots: plan.decisions.map { ForgetJSON.Item(id: $0.0.id.hex, time: $0.0.snapshot.time, keep: $0.1.keep, reasons: $0.1.reasons) },
                    prune: pruneReport))
        } else {
            if policy.isEmpty && snapshots.isEmpty { print("no snapshot id or --keep rule given: nothing is forgotten") }
            for (entry, decision) in plan.decisions {
                print("\(decision.keep ? "keep  " : "forget") \(entry.id.shortHex)  \(ISO8601.format(entry.snapshot.time).prefix(19))  \(entry.snapshot.paths.joined(separator: " "))  \(decision.reasons.joined(separator: ", "))")
            }
            print("\(dryRun ? "would forget" : "forgot") \(plan.forgotten.count) of \(plan.decisions.count) snapshots")
            if let pruneReport { PruneCommand.printText(pruneReport) }
        }
    }
}

struct ForgetJSON: Encodable {
    struct Item: Encodable {
        let id: String
        let time: Date
        let keep: Bool
        let reasons: [String]
    }
    let dryRun: Bool
    let snapshots: [Item]
    let prune: Pruner.Report?
}
