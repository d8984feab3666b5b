import Foundation
import LifeboatCatalog
import LifeboatCore
import Logging

/// What every operation runs with: the configuration, where secrets come from, the
/// backends of its locations, who asks, the clock and the log. The CLI makes one per
/// command; the daemon one for its life.
public struct OperationsContext: Sendable {
    public var configuration: LifeboatConfiguration
    public var secrets: SecretLookup
    public var backends: LocationBackends
    public var requester: Requester
    /// Recorded in snapshots (`programVersion`).
    public var programVersion: String
    public var clock: any Clock<Duration>
    public var logger: Logger

    /// - Parameters:
    ///   - requester: who asks (default: this process's host and user).
    ///   - clock: what waits and durations are measured on (a test clock in tests).
    public init(
        configuration: LifeboatConfiguration, secrets: SecretLookup, backends: LocationBackends, requester: Requester = .current,
        programVersion: String, clock: any Clock<Duration> = ContinuousClock(), logger: Logger = Logger(label: "lifeboat")
    ) {
        self.configuration = configuration
        self.secrets = secrets
        self.backends = backends
        self.requester = requester
        self.programVersion = programVersion
        self.clock = clock
        self.logger = logger
    }

    /// The catalog lifeboat.yaml names (or the default beside it).
    public func catalogLocation() throws -> CatalogLocation {
        try configuration.catalogLocation(secrets: secrets)
    }

    /// Opens the catalog, runs `body`, and closes it whatever happens.
    public func withCatalog<T: Sendable>(_ body: (Catalog) async throws -> T) async throws -> T {
        try await Catalog.using(try catalogLocation(), body)
    }

    /// Opens the repository in a configured location.
    public func repository(in location: LifeboatConfiguration.Location, passphrase: String) async throws -> Repository {
        let repo = try await Repository.open(backend: try await backends.backend(for: location), passphrase: passphrase)
        for w in repo.keyFileWarnings { logger.warning("\(w)", metadata: ["location": "\(location.name)"]) }
        return repo
    }
}
