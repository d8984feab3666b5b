import Foundation

/// The state of each storage location and the 3-2-1-1-0 verdict over them: at least 3
/// copies, on 2 kinds of media, 1 off-site, 1 offline or immutable, and 0 errors at the
/// last verification.
public struct LocationSurvey: Sendable {
    /// A location as the caller's configuration describes it.
    public struct Location: Sendable {
        public let name: String
        public let role: LocationRole
        /// "disk", "removable", "air-gapped", "object-storage"...
        public let mediaType: String
        public let isOffsite: Bool
        /// Write-once or offline: what ransomware on the primary host cannot reach or rewrite.
        public let isOfflineOrImmutable: Bool
        public let backend: any StorageBackend

        public init(name: String, role: LocationRole, mediaType: String, isOffsite: Bool, isOfflineOrImmutable: Bool, backend: any StorageBackend) {
            self.name = name
            self.role = role
            self.mediaType = mediaType
            self.isOffsite = isOffsite
            self.isOfflineOrImmutable = isOfflineOrImmutable
            self.backend = backend
        }
    }

    public struct Status: Sendable {
        public let name: String
        public let role: LocationRole
        public let location: String
        public let isReachable: Bool
        public let problem: String?
        public let snapshots: Int
        public let newestSnapshot: Date?
        public let bytes: Int64
        /// When the location's manifest was last brought up to date (media and bundles).
        public let manifestUpdated: Date?
        /// Errors found by `verify` (nil when not verified in this survey).
        public let verificationErrors: Int?
        /// The first errors found by `verify`.
        public var verificationDetails: [String] = []
        /// The last verification: this survey's, or the one recorded before.
        public var lastVerified: Date?
        public var lastVerificationErrors: Int?
    }

    /// A verification recorded earlier (in the catalog).
    public struct PreviousCheck: Sendable {
        public let checkedAt: Date
        public let errors: Int

        public init(checkedAt: Date, errors: Int) {
            self.checkedAt = checkedAt
            self.errors = errors
        }
    }

    public struct Verdict: Sendable {
        public let copies: Int
        public let mediaTypes: Int
        public let offsite: Int
        public let offlineOrImmutable: Int
        public let errors: Int?
        public var isMet: Bool { copies >= 3 && mediaTypes >= 2 && offsite >= 1 && offlineOrImmutable >= 1 && errors == 0 }
        public var missing: [String] {
            var out: [String] = []
            if copies < 3 { out.append("\(copies) of 3 copies") }
            if mediaTypes < 2 { out.append("\(mediaTypes) of 2 media types") }
            if offsite < 1 { out.append("no off-site copy") }
            if offlineOrImmutable < 1 { out.append("no offline or immutable copy") }
            if errors == nil { out.append("not every copy verified (run with --verify)") } else if errors! > 0 { out.append("\(errors!) verification errors") }
            return out
        }
    }

    public let locations: [Location]

    public init(locations: [Location]) {
        self.locations = locations
    }

    /// Looks at every location; with `verify`, checks every object's SHA-256 (no key needed);
    /// with a passphrase, opens each to date its newest snapshot. Without `verify`, the
    /// verdict's errors are those of each copy's last recorded verification (`previous`, by
    /// location name), or unknown when a copy has none.
    ///
    /// - Parameter recorded: by location name, the snapshot ids a witness (the catalog)
    ///   recorded as stored there; with `verify`, each one the location no longer lists is
    ///   an error: it was deleted or rolled back there.
    public func survey(
        verify: Bool, passphrase: String?, previous: [String: PreviousCheck] = [:], recorded: [String: Set<String>] = [:]
    ) async -> ([Status], Verdict) {
        var statuses: [Status] = []
        var copies: [Location] = []
        var errors = 0
        for l in locations {
            do {
                _ = try await Repository.readConfig(l.backend)
                let snapshotObjects = try await l.backend.list(.snapshots)
                let bytes = try await ObjectKind.allCases.asyncReduce(Int64(0)) { sum, kind in
                    sum + Int64(try await l.backend.list(kind).reduce(0) { $0 + $1.sizeBytes })
                }
                let manifest = try? await MediumManifest.load(from: l.backend)
                var verificationErrors: Int?
                var details: [String] = []
                if verify {
                    var report = try await ObjectVerifier(backend: l.backend).verify()
                    if let manifest {
                        // Both report keys that are no object name: once is enough.
                        let errors = report.errors
                        report.errors.append(contentsOf: try await manifest.verify(l.backend).errors.filter { !errors.contains($0) })
                    }
                    report.errors.append(contentsOf: Self.missingSnapshots(recorded: recorded[l.name] ?? [], listed: snapshotObjects))
                    verificationErrors = report.errors.count
                    details = Array(report.errors.prefix(5))
                    errors += report.errors.count
                }
                // Snapshot times are sealed: only the passphrase tells them.
                var newest: Date?
                if let passphrase {
                    // A location that this passphrase does not open is still a copy; only its dates are unknown.
                    newest = try? await Repository.open(backend: l.backend, passphrase: passphrase).snapshots().last?.snapshot.time
                }
                var status = Status(
                    name: l.name, role: l.role, location: l.backend.locationDescription, isReachable: true, problem: nil,
                    snapshots: snapshotObjects.count, newestSnapshot: newest, bytes: bytes, manifestUpdated: manifest?.updated,
                    verificationErrors: verificationErrors, verificationDetails: details)
                status.lastVerified = verify ? Date() : previous[l.name]?.checkedAt
                status.lastVerificationErrors = verificationErrors ?? previous[l.name]?.errors
                statuses.append(status)
                if !snapshotObjects.isEmpty { copies.append(l) }
            } catch {
                statuses.append(
                    Status(
                        name: l.name, role: l.role, location: l.backend.locationDescription, isReachable: false, problem: "\(error)",
                        snapshots: 0, newestSnapshot: nil, bytes: 0, manifestUpdated: nil, verificationErrors: nil))
                if verify { errors += 1 }
            }
        }
        let verdict = Verdict(
            copies: copies.count, mediaTypes: Set(copies.map(\.mediaType)).count, offsite: copies.filter(\.isOffsite).count,
            offlineOrImmutable: copies.filter(\.isOfflineOrImmutable).count,
            errors: verify ? errors : Self.lastErrors(of: copies, previous))
        return (statuses, verdict)
    }

    /// One error per snapshot id in `recorded` that `listed` (a listing of `snapshots/`) lacks.
    public static func missingSnapshots(recorded: Set<String>, listed: [ObjectInfo]) -> [String] {
        let present = Set(listed.map(\.name.name))
        return recorded.subtracting(present).sorted().map {
            "snapshot \($0.prefix(8)) was recorded as stored here but is missing: it was deleted or rolled back; copy it back from another location"
        }
    }

    /// The errors of each copy's last verification; nil when one was never verified.
    static func lastErrors(of copies: [Location], _ previous: [String: PreviousCheck]) -> Int? {
        var total = 0
        for copy in copies {
            guard let check = previous[copy.name] else { return nil }
            total += check.errors
        }
        return total
    }
}

extension Sequence {
    func asyncReduce<R>(_ initial: R, _ next: (R, Element) async throws -> R) async throws -> R {
        var result = initial
        for e in self { result = try await next(result, e) }
        return result
    }
}
