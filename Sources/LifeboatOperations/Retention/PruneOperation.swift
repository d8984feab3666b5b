import Foundation
import LifeboatCatalog
import LifeboatCore

/// `prune` of a configured location: the data no snapshot there refers to is removed, and
/// the prune is recorded in the catalog, so that `run` and `log` say when each location
/// was last pruned.
public struct PruneOperation: Sendable {
    public let context: OperationsContext

    public init(context: OperationsContext) {
        self.context = context
    }

    public struct Outcome: Sendable {
        public var report: Pruner.Report
        /// Why the prune could not be recorded (the prune itself stands); nil when it was.
        public var notRecorded: String?
    }

    /// Prunes the location named `location` (default: PRIMARY).
    /// - Parameter packGracePeriod: packs younger than this are spared (``Pruner/packGracePeriod``).
    /// - Parameter maxUnused: how much unused data may stay (``Pruner/maxUnused``).
    /// - Throws: ``ConfigurationError`` for an unknown location; what opening or pruning it threw.
    public func run(
        location name: String?, passphrase: String, dryRun: Bool, packGracePeriod: Duration = Pruner.defaultPackGracePeriod,
        maxUnused: Pruner.UnusedLimit = .default
    ) async throws -> Outcome {
        let config = context.configuration
        let location = try name.map { try config.location(named: $0) } ?? config.requirePrimary()
        let repository = try await context.repository(in: location, passphrase: passphrase)
        var pruner = Pruner(repository: repository)
        pruner.packGracePeriod = packGracePeriod
        pruner.maxUnused = maxUnused
        let report = try await pruner.prune(dryRun: dryRun, host: context.requester.host, username: context.requester.username)
        var outcome = Outcome(report: report, notRecorded: nil)
        guard !dryRun else { return outcome }
        do {
            try await context.withCatalog { catalog in
                try await catalog.recordPrune(
                    LocationPrune(
                        location: location.name, prunedAt: Date(), packsDeleted: report.packsDeleted + report.unindexedPacksDeleted,
                        bytesFreed: max(0, report.bytesBefore - report.bytesAfter) + report.walBytesDeleted, error: nil))
            }
        } catch {
            outcome.notRecorded = "\(error)"
        }
        return outcome
    }
}
