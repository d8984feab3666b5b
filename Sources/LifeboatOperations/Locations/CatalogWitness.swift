import Foundation
import LifeboatCatalog
import LifeboatCore

/// The catalog as a witness of what each location should hold.
///
/// Recovery never depends on the catalog, but the catalog remembers which snapshots each
/// location held: every copy it recorded as VERIFIED there (or found there PRESENT) and not
/// FORGOTTEN since. A storage provider can delete snapshots or roll a location back to an
/// older state, and nothing in the location itself can show it; the catalog, kept apart
/// from the locations, can. `check` and `locations --verify` report each such snapshot.
public struct CatalogWitness: Sendable {
    public let context: OperationsContext

    /// A witness over `context`'s configured locations and catalog.
    public init(context: OperationsContext) {
        self.context = context
    }

    /// One error per snapshot the catalog recorded in the configured location at `path`
    /// that `backend` (that location) no longer lists; none when no configured location has
    /// that path.
    /// - Throws: a catalog error when the catalog cannot be read; a storage error when the
    ///   location cannot be listed.
    public func missingSnapshots(at path: String, backend: any StorageBackend) async throws -> [String] {
        guard let location = context.configuration.locations.first(where: { $0.path == path }) else { return [] }
        let recorded = try await context.withCatalog { try await $0.snapshotsRecordedByLocation() }[location.name] ?? []
        guard !recorded.isEmpty else { return [] }
        return LocationSurvey.missingSnapshots(recorded: recorded, listed: try await backend.list(.snapshots))
    }
}
