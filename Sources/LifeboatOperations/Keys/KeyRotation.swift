import Foundation
import LifeboatCore

/// `key rotate` across locations: a new master key, every data key re-sealed under it, on
/// the repository and on every other configured location but AIR_GAPPED, so that the old
/// master key opens nothing anywhere. A location that cannot be opened is named in the
/// report (its old key files may still open it).
public struct KeyRotation: Sendable {
    public let context: OperationsContext

    /// A rotation over `context`'s configured locations.
    public init(context: OperationsContext) {
        self.context = context
    }

    public struct Report: Sendable, Codable {
        public struct Location: Sendable, Codable {
            public let location: String
            public let dataKeysResealed: Int
            public let keyFilesRetired: Int
            /// Data key files there that did not open with the master key and were left.
            public var dataKeyFilesKept: [String] = []
            public let error: String?
        }
        public let newKey: String
        public let dataKeysResealed: Int
        public let keyFilesRetired: Int
        /// Data key files that did not open with the master key (damaged, or foreign) and were left as they were.
        public let dataKeyFilesKept: [String]
        public let locations: [Location]

        public init(newKey: String, dataKeysResealed: Int, keyFilesRetired: Int, dataKeyFilesKept: [String] = [], locations: [Location]) {
            self.newKey = newKey
            self.dataKeysResealed = dataKeysResealed
            self.keyFilesRetired = keyFilesRetired
            self.dataKeyFilesKept = dataKeyFilesKept
            self.locations = locations
        }

        /// Every data key file left because it did not open, with its location when not this one.
        public var keptEverywhere: [String] {
            dataKeyFilesKept + locations.flatMap { l in l.dataKeyFilesKept.map { "\($0) at \(l.location)" } }
        }

        /// Locations the old master key may still open.
        public var incomplete: [String] { locations.filter { $0.error != nil }.map(\.location) }
    }

    /// - Parameter repositoryPath: the path of `repository` itself, left out of the other locations.
    public func rotate(_ repository: Repository, repositoryPath: String, passphrase: String, kdf: KDFParameters) async throws -> Report {
        var replicas: [Repository] = []
        var unreachable: [KeyManager.ReplicaRotation] = []
        for l in context.configuration.locations where l.role != .airGapped && l.path != repositoryPath {
            do {
                replicas.append(try await context.repository(in: l, passphrase: passphrase))
            } catch {
                unreachable.append(KeyManager.ReplicaRotation(location: l.path, error: "\(error)"))
            }
        }
        var report = try await KeyManager(repository: repository).rotate(
            passphrase: passphrase, kdf: kdf, host: context.requester.host, username: context.requester.username, replicas: replicas)
        report.replicas += unreachable
        return Report(
            newKey: report.newKey.name, dataKeysResealed: report.dataKeysResealed, keyFilesRetired: report.keyFilesRetired,
            dataKeyFilesKept: report.dataKeyFilesKept.map(\.path),
            locations: report.replicas.map {
                Report.Location(
                    location: $0.location, dataKeysResealed: $0.dataKeysResealed, keyFilesRetired: $0.keyFilesRetired,
                    dataKeyFilesKept: $0.dataKeyFilesKept.map(\.path), error: $0.error)
            })
    }
}
