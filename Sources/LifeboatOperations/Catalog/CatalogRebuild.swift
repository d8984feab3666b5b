import Foundation
import LifeboatCatalog
import LifeboatCore

/// Recreates the BackupLog from a configured location: the catalog is a record, never a
/// dependency (DESIGN §1.1).
public struct CatalogRebuild: Sendable {
    public let context: OperationsContext

    /// A rebuild of `context`'s catalog.
    public init(context: OperationsContext) {
        self.context = context
    }

    /// - Parameter location: a location named in lifeboat.yaml.
    public func rebuild(from location: String, passphrase: String) async throws -> CatalogRebuilder.Report {
        let l = try context.configuration.location(named: location)
        let repository = try await context.repository(in: l, passphrase: passphrase)
        return try await context.withCatalog { catalog in
            try await CatalogRebuilder(catalog: catalog).rebuild(from: repository, location: l.name, role: l.role)
        }
    }
}
