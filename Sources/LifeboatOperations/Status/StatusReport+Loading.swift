import Foundation
import LifeboatCatalog

extension StatusReport {
    /// The report for `context`'s configuration and catalog, now.
    /// - Throws: the catalog's errors; ``ConfigurationError`` for a schedule that does not parse.
    public static func load(_ context: OperationsContext, now: Date = Date()) async throws -> StatusReport {
        let config = context.configuration
        let (records, plans, executions) = try await context.withCatalog { catalog in
            (try await catalog.backups(), try await catalog.latestPlans(), try await catalog.executions())
        }
        return StatusReport(configuration: config, records: records, entries: try config.scheduleEntries(), now: now, plans: plans, executions: executions)
    }
}
