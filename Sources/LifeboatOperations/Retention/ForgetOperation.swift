import Foundation
import LifeboatCore

/// `forget`: a retention policy's plan (keep or forget, with reasons), carried out unless
/// it is a dry run, then, when asked and something was forgotten, a prune.
public struct ForgetOperation: Sendable {
    public let requester: Requester

    /// Forgets recorded as made by `requester` (its locks).
    public init(requester: Requester) {
        self.requester = requester
    }

    public struct Outcome: Sendable {
        public let plan: Forgetter.Plan
        /// The prune that followed, if one did.
        public let prune: Pruner.Report?
    }

    /// What a forget removes: a policy's choice among the snapshots a filter selects, or
    /// the snapshots named by id.
    public enum Selection: Sendable {
        case policy(RetentionPolicy, SnapshotFilter)
        /// Unique id prefixes (or `latest`); one that names no snapshot fails the forget before anything is deleted.
        case named([String])
    }

    /// Plans `selection` over `repository`, forgets what it says unless `dryRun`, and prunes
    /// after when `prune` (a dry-run prune with a dry run).
    /// - Parameter packGracePeriod: packs younger than this are spared (``Pruner/packGracePeriod``).
    /// - Parameter maxUnused: how much unused data the prune may leave (``Pruner/maxUnused``).
    public func run(
        _ repository: Repository, selection: Selection, dryRun: Bool, prune: Bool, packGracePeriod: Duration = Pruner.defaultPackGracePeriod,
        maxUnused: Pruner.UnusedLimit = .default
    ) async throws -> Outcome {
        let forgetter = Forgetter(repository: repository)
        let plan: Forgetter.Plan
        switch selection {
        case .policy(let policy, let filter): plan = try await forgetter.plan(policy, filter: filter)
        case .named(let references): plan = try await forgetter.plan(naming: references)
        }
        if !dryRun { try await forgetter.execute(plan, host: requester.host, username: requester.username) }
        var report: Pruner.Report?
        // Asked for, a prune runs even when this forget removed nothing: what an earlier
        // forget (a run's retention) left behind is removed too.
        if prune {
            var pruner = Pruner(repository: repository)
            pruner.packGracePeriod = packGracePeriod
            pruner.maxUnused = maxUnused
            report = try await pruner.prune(dryRun: dryRun, host: requester.host, username: requester.username)
        }
        return Outcome(plan: plan, prune: report)
    }
}
