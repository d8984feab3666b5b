import Foundation
import LifeboatCatalog
import LifeboatCore

/// The state of every configured location and the 3-2-1-1-0 verdict over them: 3 copies,
/// 2 media types, 1 off-site, 1 offline or immutable (removable media, AIR_GAPPED copies,
/// S3 locations with objectLock), 0 errors at the last verification of every copy. With
/// `verify`, every object of every location is checked and the result recorded in the
/// catalog, so that a later assessment stands on it; the catalog is also the witness of
/// what each location should hold: a snapshot it recorded there that the location no
/// longer lists (deleted, or the location rolled back) is a verification error.
public struct LocationAssessment: Sendable {
    public let context: OperationsContext

    /// An assessment of the locations `context`'s configuration names.
    public init(context: OperationsContext) {
        self.context = context
    }

    public struct Report: Sendable, Codable {
        public struct Location: Sendable, Codable {
            public let name: String
            public let role: LocationRole
            public let location: String
            public let reachable: Bool
            public let problem: String?
            public let snapshots: Int
            public let newestSnapshot: Date?
            public let newestSnapshotAgeSeconds: Double?
            public let bytes: Int64
            /// This assessment's verification, or the last one the catalog recorded.
            public let lastVerified: Date?
            public let lastVerificationErrors: Int?
            /// When a medium's or bundle's manifest was last brought up to date.
            public let manifestUpdated: Date?
            public let verificationErrors: Int?
            /// The first errors of this assessment's verification.
            public var verificationDetails: [String] = []
        }

        public struct Rule: Sendable, Codable {
            public let copies: Int
            public let mediaTypes: Int
            public let offsite: Int
            public let offlineOrImmutable: Int
            public let errors: Int?
            public let met: Bool
            public let missing: [String]
        }

        public let locations: [Location]
        public let rule: Rule
        /// What went wrong beside the assessment (no catalog, a verification not recorded).
        public var warnings: [String] = []

        enum CodingKeys: String, CodingKey { case locations, rule }
    }

    /// - Parameter passphrase: without one, snapshot times are left out.
    public func assess(verify: Bool, passphrase: String?) async -> Report {
        var warnings: [String] = []
        var locations: [LocationSurvey.Location] = []
        for l in context.configuration.locations {
            let backend: any StorageBackend
            do {
                backend = try await context.backends.backend(for: l)
            } catch {
                backend = UnreachableBackend(description: l.path, error: error)
            }
            locations.append(
                LocationSurvey.Location(
                    name: l.name, role: l.role, mediaType: l.mediaType, isOffsite: l.isOffsite, isOfflineOrImmutable: l.isOfflineOrImmutable,
                    backend: backend))
        }
        // The catalog holds the earlier verifications; without it the verdict needs `verify`.
        var catalog: Catalog?
        do {
            catalog = try await Catalog.open(try context.catalogLocation())
        } catch {
            warnings.append("no earlier verifications: \(error)")
        }
        var previous: [String: LocationCheck] = [:]
        var recorded: [String: Set<String>] = [:]
        if let catalog {
            do {
                previous = try await catalog.lastLocationChecks()
            } catch {
                warnings.append("no earlier verifications: \(error)")
            }
            if verify {
                do {
                    recorded = try await catalog.snapshotsRecordedByLocation()
                } catch {
                    warnings.append("the snapshots each location should hold are not known, so none missing is reported: \(error)")
                }
            }
        }
        let (statuses, verdict) = await LocationSurvey(locations: locations).survey(
            verify: verify, passphrase: passphrase, previous: previous.mapValues { .init(checkedAt: $0.checkedAt, errors: $0.errors) },
            recorded: recorded)
        if verify, let catalog {
            for s in statuses {
                let errors = s.verificationErrors ?? 1
                let details = s.isReachable ? s.verificationDetails.joined(separator: "; ") : "unreachable: \(s.problem ?? "")"
                do {
                    try await catalog.recordLocationCheck(location: s.name, errors: errors, details: details.isEmpty ? nil : details)
                } catch {
                    warnings.append("the verification of \(s.name) was not recorded: \(error)")
                }
            }
        }
        await catalog?.close()
        let now = Date()
        var report = Report(
            locations: statuses.map {
                .init(
                    name: $0.name, role: $0.role, location: $0.location, reachable: $0.isReachable, problem: $0.problem, snapshots: $0.snapshots,
                    newestSnapshot: $0.newestSnapshot, newestSnapshotAgeSeconds: $0.newestSnapshot.map { now.timeIntervalSince($0) }, bytes: $0.bytes,
                    lastVerified: $0.lastVerified, lastVerificationErrors: $0.lastVerificationErrors, manifestUpdated: $0.manifestUpdated,
                    verificationErrors: $0.verificationErrors, verificationDetails: $0.verificationDetails)
            },
            rule: .init(
                copies: verdict.copies, mediaTypes: verdict.mediaTypes, offsite: verdict.offsite, offlineOrImmutable: verdict.offlineOrImmutable,
                errors: verdict.errors, met: verdict.isMet, missing: verdict.missing))
        report.warnings = warnings
        return report
    }
}

/// Stands for a location that could not even be opened, so the survey reports it as such.
final class UnreachableBackend: StorageBackend {
    let description: String
    let error: String
    init(description: String, error: any Error) {
        self.description = description
        self.error = "\(error)"
    }
    var locationDescription: String { description }
    private func fail() -> StorageError { .io("cannot be opened: \(error)", errno: EIO, location: description) }
    func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws { throw fail() }
    func read(_ name: ObjectName) async throws -> [UInt8] { throw fail() }
    func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] { throw fail() }
    func size(of name: ObjectName) async throws -> Int { throw fail() }
    func listing(_ kind: ObjectKind) async throws -> ObjectListing { throw fail() }
    func delete(_ name: ObjectName) async throws { throw fail() }
}
