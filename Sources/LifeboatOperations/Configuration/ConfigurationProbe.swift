import Foundation
import LifeboatCatalog
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// What a run needs, probed without running anything (`config check`): each source's paths
/// readable and its password found, the passphrase file readable, each location reachable
/// with its credentials (and holding a repository), the catalog reachable. Nothing is
/// written anywhere but a catalog that did not exist yet, which is made as a run would.
public struct ConfigurationProbe: Sendable {
    public let context: OperationsContext

    public init(context: OperationsContext) {
        self.context = context
    }

    /// One thing probed.
    public struct Finding: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable {
            case ok = "OK"
            /// Expected at times (a removable medium not mounted, an AIR_GAPPED location offline).
            case warning = "WARNING"
            case error = "ERROR"
        }

        /// What was probed: `source app-db`, `location cloud`, `passphrase`, `catalog`.
        public var subject: String
        public var status: Status
        /// One sentence: what was found, or what failed and what to do.
        public var detail: String
    }

    /// Every finding, in the order of the configuration.
    public struct Report: Sendable, Codable {
        public var file: String
        public var findings: [Finding]
        public var errors: Int { findings.filter { $0.status == .error }.count }
        public var warnings: Int { findings.filter { $0.status == .warning }.count }

        enum CodingKeys: String, CodingKey { case file, findings, errors, warnings }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(file, forKey: .file)
            try c.encode(findings, forKey: .findings)
            try c.encode(errors, forKey: .errors)
            try c.encode(warnings, forKey: .warnings)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            file = try c.decode(String.self, forKey: .file)
            findings = try c.decode([Finding].self, forKey: .findings)
        }

        init(file: String, findings: [Finding]) {
            self.file = file
            self.findings = findings
        }
    }

    /// Probes everything; never throws: each failure is a finding.
    /// - Parameter passphrase: where the passphrase comes from, as the caller resolves it:
    ///   a file to read (nil: lifeboat.yaml's `passphrase:`), and its origin in words.
    public func probe(passphraseFile: String?, passphraseOrigin: String?) async -> Report {
        let config = context.configuration
        var findings: [Finding] = []
        for source in config.sources { findings.append(probe(source)) }
        findings.append(probePassphrase(file: passphraseFile ?? config.passphrase?.file, origin: passphraseOrigin))
        for location in config.locations { findings.append(await probe(location)) }
        findings.append(await probeCatalog())
        return Report(file: config.file, findings: findings)
    }

    private func probe(_ source: LifeboatConfiguration.Source) -> Finding {
        let subject = "source \(source.name)"
        var paths: [String] = []
        switch source.kind {
        case .files: paths = source.paths ?? []
        case .sqlite: paths = source.path.map { [$0] } ?? []
        case .postgres: paths = source.pgdata.map { [$0] } ?? []
        }
        for path in paths {
            if let problem = Self.readProblem(path) { return Finding(subject: subject, status: .error, detail: "\(path) \(problem)") }
        }
        do {
            _ = try context.secrets.secret(environment: source.passwordEnv, file: source.passwordFile, for: "source '\(source.name)'")
        } catch {
            return Finding(subject: subject, status: .error, detail: "\(error)")
        }
        let what = source.kind == .postgres ? (source.pgdata.map { "data directory \($0) readable" } ?? "password found; the server is reached when it runs") : "\(paths.count) path\(paths.count == 1 ? "" : "s") readable"
        return Finding(subject: subject, status: .ok, detail: what)
    }

    private func probePassphrase(file: String?, origin: String?) -> Finding {
        guard let file else {
            if let name = context.configuration.passphrase?.env {
                let set = context.secrets.environment[name].map { !$0.isEmpty } ?? false
                return Finding(
                    subject: "passphrase", status: set ? .ok : .error,
                    detail: set ? "from the environment variable \(name)" : "the environment variable \(name) named by passphrase: is not set")
            }
            return Finding(subject: "passphrase", status: .ok, detail: origin.map { "from \($0)" } ?? "not named anywhere: commands ask for it on a terminal")
        }
        if let problem = Self.readProblem(file) {
            return Finding(subject: "passphrase", status: .error, detail: "the passphrase file \(file) \(problem)")
        }
        guard let data = FileManager.default.contents(atPath: file), !SecretLookup.firstLine(of: data).isEmpty else {
            return Finding(subject: "passphrase", status: .error, detail: "the passphrase file \(file) is empty")
        }
        return Finding(subject: "passphrase", status: .ok, detail: "file \(file) readable")
    }

    private func probe(_ location: LifeboatConfiguration.Location) async -> Finding {
        let subject = "location \(location.name)"
        // Offline by design: not reaching it is no fault of the configuration.
        let unreachable: Finding.Status = location.role == .airGapped || location.medium != nil ? .warning : .error
        if location.medium != nil && !location.mayBeCreated {
            return Finding(subject: subject, status: unreachable, detail: "the medium \(location.medium ?? "") is not mounted (\(location.path)'s parent folder is missing)")
        }
        // A folder not made yet is the normal state of a new setup: PRIMARY's is made by
        // `init`, a copy's by the first run that replicates there.
        if !location.isS3 && !FileManager.default.fileExists(atPath: location.path) {
            let parent = (location.path as NSString).deletingLastPathComponent
            if location.role == .primary {
                return Finding(subject: subject, status: .error, detail: "\(location.path) does not exist yet: `lifeboat init` makes the repository there")
            }
            if location.role != .airGapped && location.medium == nil && FileManager.default.isWritableFile(atPath: parent) {
                return Finding(
                    subject: subject, status: .ok,
                    detail: "\(location.path) does not exist yet: the first `run` (or `replicate --to \(location.name)`) makes it and copies the repository there")
            }
        }
        do {
            let backend = try await context.backends.backend(for: location)
            // Reading the repository's config object exercises the credentials (S3) and the path.
            let initialised = try await backend.exists(.config)
            guard initialised else {
                return Finding(
                    subject: subject, status: location.role == .primary ? .error : .warning,
                    detail: "\(location.path) is reachable but holds no repository yet\(location.role == .primary ? ": initialise it first" : "; the first run copies one there")")
            }
            return Finding(subject: subject, status: .ok, detail: "\(location.path) reachable, repository present")
        } catch {
            return Finding(subject: subject, status: unreachable, detail: "\(location.path) cannot be reached: \(error)")
        }
    }

    private func probeCatalog() async -> Finding {
        let where_: CatalogLocation
        do {
            where_ = try context.catalogLocation()
        } catch {
            return Finding(subject: "catalog", status: .error, detail: "\(error)")
        }
        if case .sqlite(let path) = where_ {
            let folder = (path as NSString).deletingLastPathComponent
            if access(folder, W_OK) != 0 {
                return Finding(subject: "catalog", status: .error, detail: "\(where_): its folder \(folder) \(Self.errnoText(errno, write: true))")
            }
            if FileManager.default.fileExists(atPath: path), access(path, R_OK | W_OK) != 0 {
                return Finding(subject: "catalog", status: .error, detail: "\(where_): \(Self.errnoText(errno, write: true))")
            }
            return Finding(subject: "catalog", status: .ok, detail: "\(where_) \(FileManager.default.fileExists(atPath: path) ? "readable and writable" : "will be made by the first run")")
        }
        do {
            try await Catalog.using(where_) { _ in }
            return Finding(subject: "catalog", status: .ok, detail: "\(where_) reachable")
        } catch {
            return Finding(subject: "catalog", status: .error, detail: "\(error)")
        }
    }

    /// Why `path` cannot be read (a sentence's end), or nil when it can.
    static func readProblem(_ path: String) -> String? {
        guard access(path, R_OK) == 0 else { return errnoText(errno, write: false) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue, access(path, X_OK) != 0 {
            return "is a folder this user cannot list"
        }
        return nil
    }

    private static func errnoText(_ code: Int32, write: Bool) -> String {
        switch code {
        case ENOENT: return "does not exist"
        case EACCES, EPERM: return write ? "is not writable by this user" : "is not readable by this user"
        default: return "cannot be used: \(String(cString: strerror(code)))"
        }
    }
}
