import ArgumentParser
import Foundation
import LifeboatCatalog
import LifeboatCore

struct LocationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locations",
        abstract: "The configured storage locations, their state, and the 3-2-1-1-0 verdict.",
        discussion: """
            3 copies, 2 media types, 1 off-site, 1 offline or immutable (removable media, \
            AIR_GAPPED copies and S3 locations with objectLock), 0 errors at the last verification \
            of every copy (--verify reads every object and records the result in the catalog). \
            Exits 3 when the rule is not met.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Flag(help: "Check every object of every location against its SHA-256 and manifest.")
    var verify = false

    func run() async throws {
        guard let config = try repository.configuration() else {
            throw CLIError("no configuration: name the locations in lifeboat.yaml (or pass --config)")
        }
        var locations: [LocationSurvey.Location] = []
        for l in config.locations {
            let backend: any StorageBackend
            do {
                backend = try config.backend(for: l)
            } catch {
                backend = UnreachableBackend(description: l.path, error: error)
            }
            let media = l.role == .airGapped ? "air-gapped" : l.medium != nil ? "removable" : l.path.hasPrefix("s3://") ? "object-storage" : "disk"
            locations.append(
                LocationSurvey.Location(
                    name: l.name, role: l.role.rawValue, mediaType: media, isOffsite: l.isOffsite,
                    isOfflineOrImmutable: l.isOfflineOrImmutable, backend: backend))
        }
        let passphrase = try? repository.passphrase()  // without one, snapshot times are left out
        // The catalog holds the earlier verifications; without it the verdict needs --verify.
        var catalog: Catalog?
        do {
            catalog = try await Catalog.open(try config.catalogLocation())
        } catch {
            FileHandle.standardError.write(Data("lifeboat: warning: no earlier verifications: \(error)\n".utf8))
        }
        let previous = (try? await catalog?.lastLocationChecks()) ?? [:]
        let (statuses, verdict) = await LocationSurvey(locations: locations).survey(
            verify: verify, passphrase: passphrase, previous: previous.mapValues { .init(checkedAt: $0.checkedAt, errors: $0.errors) })
        if verify, let catalog {
            for s in statuses {
                let errors = s.verificationErrors ?? 1
                let details = s.isReachable ? s.verificationDetails.joined(separator: "; ") : "unreachable: \(s.problem ?? "")"
                do {
                    try await catalog.recordLocationCheck(location: s.name, errors: errors, details: details.isEmpty ? nil : details)
                } catch {
                    FileHandle.standardError.write(Data("lifeboat: warning: the verification of \(s.name) was not recorded: \(error)\n".utf8))
                }
            }
        }
        await catalog?.close()
        if output.json {
            try JSONOutput.print(
                LocationsJSON(
                    locations: statuses.map {
                        .init(
                            name: $0.name, role: $0.role, location: $0.location, reachable: $0.isReachable, problem: $0.problem,
                            snapshots: $0.snapshots, newestSnapshot: $0.newestSnapshot,
                            newestSnapshotAgeSeconds: $0.newestSnapshot.map { Date().timeIntervalSince($0) }, bytes: $0.bytes,
                            lastVerified: $0.lastVerified, lastVerificationErrors: $0.lastVerificationErrors, manifestUpdated: $0.manifestUpdated,
                            verificationErrors: $0.verificationErrors)
                    },
                    rule: .init(
                        copies: verdict.copies, mediaTypes: verdict.mediaTypes, offsite: verdict.offsite,
                        offlineOrImmutable: verdict.offlineOrImmutable, errors: verdict.errors, met: verdict.isMet, missing: verdict.missing)))
        } else {
            for s in statuses {
                let age = s.newestSnapshot.map { "newest \(Int(Date().timeIntervalSince($0) / 3600)) h ago" } ?? "newest unknown"
                let state = s.isReachable ? "\(s.snapshots) snapshots, \(age), \(ByteFormat.string(s.bytes))" : "UNREACHABLE: \(s.problem ?? "")"
                let verified =
                    s.verificationErrors.map { $0 == 0 ? ", verified" : ", \($0) ERRORS" }
                    ?? s.lastVerified.map { ", last verified \(ISO8601.format($0).prefix(16)) (\(s.lastVerificationErrors ?? 0) errors)" } ?? ", never verified"
                print("\(s.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(s.role.padding(toLength: 10, withPad: " ", startingAt: 0)) \(s.location): \(state)\(verified)")
            }
            print("3-2-1-1-0: \(verdict.isMet ? "met" : "NOT met (\(verdict.missing.joined(separator: ", ")))")")
        }
        if !verdict.isMet { throw ExitCode(ExitStatus.partial.rawValue) }
    }
}

struct LocationsJSON: Encodable {
    struct Location: Encodable {
        let name: String
        let role: String
        let location: String
        let reachable: Bool
        let problem: String?
        let snapshots: Int
        let newestSnapshot: Date?
        let newestSnapshotAgeSeconds: Double?
        let bytes: Int64
        /// This run's verification, or the last one the catalog recorded.
        let lastVerified: Date?
        let lastVerificationErrors: Int?
        /// When a medium's or bundle's manifest was last brought up to date.
        let manifestUpdated: Date?
        let verificationErrors: Int?
    }
    struct Rule: Encodable {
        let copies: Int
        let mediaTypes: Int
        let offsite: Int
        let offlineOrImmutable: Int
        let errors: Int?
        let met: Bool
        let missing: [String]
    }
    let locations: [Location]
    let rule: Rule
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
    func list(_ kind: ObjectKind) async throws -> [ObjectInfo] { throw fail() }
    func delete(_ name: ObjectName) async throws { throw fail() }
}
