import AsyncHTTPClient
import Foundation
import LifeboatCore

/// The one place a location becomes its backend stack: a local directory, a removable
/// medium, or an S3 bucket behind retries and a pack cache. Every S3 location it opens
/// shares one HTTP client: one this factory owns and ``shutdown()`` closes (a daemon, a
/// test), or one its owner lends and closes itself (the CLI's, for the process's life).
public final class LocationBackends: Sendable {
    /// For S3: credentials and the default endpoint and region (`AWS_*`).
    public let environment: [String: String]
    /// Overrides of the environment's S3 endpoint and region (`--s3-endpoint`, `--s3-region`).
    public let s3Endpoint: String?
    public let s3Region: String?
    /// Limits for this process's transfers (`--limit-upload`, `--limit-download`), over each
    /// S3 location's own `limits:`.
    public let limits: LifeboatConfiguration.TransferLimits
    private let client: @Sendable () -> HTTPClient
    private let ownedClient: HTTPClient?

    /// A factory with a client of its own, closed by ``shutdown()``.
    public init(environment: [String: String], s3Endpoint: String? = nil, s3Region: String? = nil, limits: LifeboatConfiguration.TransferLimits = .init()) {
        self.environment = environment
        self.s3Endpoint = s3Endpoint
        self.s3Region = s3Region
        self.limits = limits
        let owned = S3Backend.makeClient()
        ownedClient = owned
        client = { owned }
    }

    /// A factory that borrows its client (made on first use) from its owner.
    public init(
        environment: [String: String], s3Endpoint: String? = nil, s3Region: String? = nil, limits: LifeboatConfiguration.TransferLimits = .init(),
        sharing client: @escaping @Sendable () -> HTTPClient
    ) {
        self.environment = environment
        self.s3Endpoint = s3Endpoint
        self.s3Region = s3Region
        self.limits = limits
        self.client = client
        ownedClient = nil
    }

    /// Closes the client this factory owns; backends opened here must not be used afterwards.
    public func shutdown() async {
        // A client that fails to shut down has nothing left to lose: the process is done with it.
        try? await ownedClient?.shutdown()
    }

    /// A configured location's backend.
    /// - Parameter create: make the folder (or the bucket) when missing; a removable medium's
    ///   folder only where its mount point exists.
    public func backend(for location: LifeboatConfiguration.Location, create: Bool = false) async throws -> any StorageBackend {
        // A configured location that is missing is reported as such (an unmounted medium),
        // not as "no repository".
        try await open(
            path: location.path, medium: location.medium, objectLock: location.objectLock?.lock, limits: location.limits ?? .init(),
            create: create && location.mayBeCreated)
    }

    /// The backend of a path given directly (`--repo`, `replicate --to DIR`).
    /// - Parameter medium: the label of a write-once removable medium at `path`.
    public func backend(path: String, medium: String? = nil, create: Bool = false) async throws -> any StorageBackend {
        do {
            return try await open(path: path, medium: medium, objectLock: nil, limits: .init(), create: create)
        } catch StorageError.locationNotFound where !create {
            throw RepositoryError.notARepository(location: path)
        } catch StorageError.locationNotFound {
            throw LocationError.cannotCreate(path)
        }
    }

    private func open(
        path: String, medium: String?, objectLock: ObjectLock?, limits configured: LifeboatConfiguration.TransferLimits, create: Bool
    ) async throws -> any StorageBackend {
        if path.hasPrefix("s3://") {
            var configuration = try S3LocationURL(path).configuration(endpoint: s3Endpoint, region: s3Region, environment: environment)
            configuration.objectLock = objectLock
            let s3 = S3Backend(configuration: configuration, client: client())
            if create { try await s3.createBucketIfMissing() }
            let limits = configured.overridden(by: self.limits)
            guard limits.upload != nil || limits.download != nil else { return PackCachingBackend(RetryingBackend(s3)) }
            let paced = RateLimitedBackend(s3, uploadBytesPerSecond: limits.upload.map { $0 * 1024 }, downloadBytesPerSecond: limits.download.map { $0 * 1024 })
            return PackCachingBackend(RetryingBackend(paced))
        }
        return medium != nil ? try RemovableMediaBackend(path: path, create: create) : try LocalDirectoryBackend(path: path, create: create)
    }
}
