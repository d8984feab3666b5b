import Foundation
import LifeboatCatalog
import LifeboatCore
import Yams

/// `lifeboat.yaml`: named storage locations with roles and retention, the sources, their
/// schedules, and where the catalog lives.
///
/// ```yaml
/// locations:
///   - name: primary
///     role: PRIMARY              # PRIMARY | SECONDARY | TERTIARY | AIR_GAPPED
///     path: /srv/backup/repo
///     retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }
///   - name: usb
///     role: TERTIARY
///     path: /mnt/usb1/lifeboat
///     medium: offsite-1          # a write-once removable medium with a manifest
///   - { name: cloud, role: SECONDARY, path: "s3://backups/app", objectLock: { mode: COMPLIANCE, days: 30 } }
/// sources:
///   - { name: app-db, kind: sqlite, path: /srv/app/app.db }
///   - { name: main, kind: postgres, url: "postgresql://postgres@127.0.0.1/postgres", passwordEnv: PGPASSWORD }
///   - { name: app-config, kind: files, paths: [/etc/app] }
/// schedules:
///   - { source: main, type: FULL, cron: "0 2 * * 0" }
///   - { source: main, type: TRANSACTION_LOG, cron: "0 */4 * * *" }
/// catalog: { sqlite: /var/lib/lifeboat/catalog.sqlite }
/// passphrase: { file: /etc/lifeboat/passphrase }
/// ```
///
/// Secrets never live here, only where to find them: files and environment variables.
struct LifeboatConfiguration: Decodable {
    var locations: [Location]
    /// What is backed up (used by `run` and the scheduler; validated now).
    var sources: [Source]
    /// When each source is backed up, and how.
    var schedules: [Schedule]
    var catalog: Catalog?
    /// Where the repositories' passphrase comes from when neither a flag nor the
    /// environment gives it: a file or an environment variable, never this file.
    var passphrase: PassphraseSource?
    /// The file this came from (absolute); the default catalog lives beside it.
    var file = ""

    enum CodingKeys: String, CodingKey { case locations, sources, schedules, catalog, passphrase }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        locations = try c.decodeIfPresent([Location].self, forKey: .locations) ?? []
        sources = try c.decodeIfPresent([Source].self, forKey: .sources) ?? []
        schedules = try c.decodeIfPresent([Schedule].self, forKey: .schedules) ?? []
        catalog = try c.decodeIfPresent(Catalog.self, forKey: .catalog)
        passphrase = try c.decodeIfPresent(PassphraseSource.self, forKey: .passphrase)
    }

    struct PassphraseSource: Decodable {
        var file: String?
        var env: String?
    }

    /// A backup source: `files` (paths), `sqlite` (path) or `postgres` (url, pgdata).
    struct Source: Decodable {
        var name: String
        var kind: Kind
        var paths: [String]?
        var exclude: [String]?
        var path: String?
        var url: String?
        var pgdata: String?
        /// Where the database password comes from: an environment variable or a file, never this file.
        var passwordEnv: String?
        var passwordFile: String?
        /// PostgreSQL: indexes checked with amcheck before each backup.
        var amcheckIndexes: [String]?

        enum Kind: String, Decodable, CaseIterable { case files, sqlite, postgres }
    }

    struct Schedule: Decodable {
        var source: String
        var type: String
        var cron: String
        /// SCHEDULED (default), MANUAL or ON_CHANGE, as the BackupLog records it.
        var scheduleType: String?
    }

    /// Where the BackupLog lives: a SQLite file (the default) or a PostgreSQL URL.
    struct Catalog: Decodable {
        var sqlite: String?
        var postgres: String?
        var passwordEnv: String?
        var passwordFile: String?
    }

    struct Location: Decodable {
        var name: String
        var role: Role
        var path: String
        var medium: String?
        /// Off the premises (default: every role but PRIMARY).
        var offsite: Bool?
        var retention: Retention?
        /// S3 only: every object written there is immutable for this long (S3 Object Lock).
        var objectLock: ObjectLockSetting?

        var isOffsite: Bool { offsite ?? (role != .primary) }
        /// Offline, write-once or locked: a copy ransomware on this host cannot erase.
        var isOfflineOrImmutable: Bool { role == .airGapped || medium != nil || objectLock != nil }
    }

    struct ObjectLockSetting: Decodable {
        var mode: String
        var days: Int

        var lock: ObjectLock? {
            ObjectLock.Mode(rawValue: mode).map { ObjectLock(mode: $0, period: .seconds(days * 86_400)) }
        }
    }

    enum Role: String, Decodable, CaseIterable {
        case primary = "PRIMARY"
        case secondary = "SECONDARY"
        case tertiary = "TERTIARY"
        case airGapped = "AIR_GAPPED"
    }

    struct Retention: Decodable {
        var keepLast: Int?
        var keepHourly: Int?
        var keepDaily: Int?
        var keepWeekly: Int?
        var keepMonthly: Int?
        var keepYearly: Int?
        var keepWithin: String?
        var keepTags: [String]?

        func policy(in file: String) throws -> RetentionPolicy {
            for (key, value) in [("keepLast", keepLast), ("keepHourly", keepHourly), ("keepDaily", keepDaily), ("keepWeekly", keepWeekly), ("keepMonthly", keepMonthly), ("keepYearly", keepYearly)] {
                if let value, value < 0 { throw CLIError("\(file): \(key) cannot be negative (\(value))") }
            }
            var within: Duration?
            if let keepWithin {
                guard let d = RetentionPolicy.parseDuration(keepWithin) else {
                    throw CLIError("\(file): keepWithin '\(keepWithin)' is not a duration like 36h, 7d, 2w, 6m or 1y")
                }
                within = d
            }
            return RetentionPolicy(
                last: keepLast ?? 0, hourly: keepHourly ?? 0, daily: keepDaily ?? 0, weekly: keepWeekly ?? 0, monthly: keepMonthly ?? 0,
                yearly: keepYearly ?? 0, within: within, tags: keepTags ?? [])
        }
    }

    /// Reads and checks a configuration file.
    /// - Throws: a ``CLIError`` naming the file, the line when YAML gives one, and what was expected.
    static func load(_ path: String) throws -> LifeboatConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the configuration file \(path)")
        }
        let config: LifeboatConfiguration
        do {
            config = try YAMLDecoder().decode(LifeboatConfiguration.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as YamlError {
            throw CLIError("\(path): \(error)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw CLIError("\(path): \(Self.where(context.codingPath)) lacks '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(type, context) {
            throw CLIError("\(path): \(Self.where(context.codingPath)) should be \(type): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            let expected = context.codingPath.first?.stringValue == "sources"
                ? "kinds are \(Source.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                : "roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))"
            throw CLIError("\(path): \(Self.where(context.codingPath)): \(context.debugDescription) (\(expected))")
        } catch {
            throw CLIError("\(path): \(error)")
        }
        let text = String(decoding: data, as: UTF8.self)
        // Line numbers for the checks below, from the YAML node tree.
        let root = try? Yams.compose(yaml: text)
        func at(_ section: String, _ i: Int) -> String {
            guard let line = root?[section]?[i]?.mark?.line else { return path }
            return "\(path):\(line)"
        }
        var names = Set<String>()
        for (i, l) in config.locations.enumerated() {
            guard names.insert(l.name).inserted else { throw CLIError("\(at("locations", i)): location '\(l.name)' is named twice") }
            guard l.path.hasPrefix("/") || l.path.hasPrefix("s3://") else {
                throw CLIError("\(at("locations", i)): location '\(l.name)': path must be absolute or s3://bucket/prefix, not '\(l.path)'")
            }
            _ = try l.retention?.policy(in: at("locations", i))
            if let lock = l.objectLock {
                guard l.path.hasPrefix("s3://") else { throw CLIError("\(at("locations", i)): location '\(l.name)': objectLock is for s3:// locations") }
                guard lock.lock != nil else {
                    throw CLIError("\(at("locations", i)): location '\(l.name)': objectLock mode '\(lock.mode)' is not GOVERNANCE or COMPLIANCE")
                }
                guard (1...36_500).contains(lock.days) else { throw CLIError("\(at("locations", i)): location '\(l.name)': objectLock days must be 1 to 36500") }
            }
        }
        guard config.locations.filter({ $0.role == .primary }).count <= 1 else { throw CLIError("\(path): more than one PRIMARY location") }

        var sourceKinds: [String: Source.Kind] = [:]
        for (i, source) in config.sources.enumerated() {
            let here = at("sources", i)
            guard sourceKinds.updateValue(source.kind, forKey: source.name) == nil else { throw CLIError("\(here): source '\(source.name)' is named twice") }
            try source.validate(at: here)
        }
        for (i, schedule) in config.schedules.enumerated() {
            let here = at("schedules", i)
            guard let kind = sourceKinds[schedule.source] else {
                throw CLIError("\(here): the schedule names source '\(schedule.source)', which is not among the sources (\(sourceKinds.keys.sorted().joined(separator: ", ")))")
            }
            guard let type = BackupType(rawValue: schedule.type) else {
                throw CLIError("\(here): type '\(schedule.type)' is not one of \(BackupType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if type == .transactionLog && kind != .postgres { throw CLIError("\(here): TRANSACTION_LOG is for postgres sources; '\(schedule.source)' is \(kind.rawValue)") }
            if type == .configuration && kind != .files { throw CLIError("\(here): CONFIGURATION is for files sources; '\(schedule.source)' is \(kind.rawValue)") }
            if let st = schedule.scheduleType, !["SCHEDULED", "MANUAL", "ON_CHANGE"].contains(st) {
                throw CLIError("\(here): scheduleType '\(st)' is not SCHEDULED, MANUAL or ON_CHANGE")
            }
            do {
                _ = try CronExpression(schedule.cron)
            } catch let error as CronError {
                throw CLIError("\(here): cron: \(error)")
            }
        }
        if let catalog = config.catalog {
            let here = root?["catalog"]?.mark.map { "\(path):\($0.line)" } ?? path
            guard (catalog.sqlite == nil) != (catalog.postgres == nil) else {
                throw CLIError("\(here): catalog needs exactly one of sqlite: PATH or postgres: URL")
            }
            if let file = catalog.sqlite, !file.hasPrefix("/") { throw CLIError("\(here): catalog sqlite path must be absolute, not '\(file)'") }
            if let url = catalog.postgres { try Self.refuseInlinePassword(url, at: here) }
            if catalog.passwordEnv != nil && catalog.passwordFile != nil { throw CLIError("\(here): catalog: give passwordEnv or passwordFile, not both") }
        }
        if let source = config.passphrase {
            let here = root?["passphrase"]?.mark.map { "\(path):\($0.line)" } ?? path
            guard (source.file == nil) != (source.env == nil) else { throw CLIError("\(here): passphrase needs exactly one of file: PATH or env: NAME") }
            if let file = source.file, !file.hasPrefix("/") { throw CLIError("\(here): passphrase file must be absolute, not '\(file)'") }
        }
        var located = config
        located.file = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return located
    }

    /// Secrets come from the environment or files the configuration names, never from it.
    static func refuseInlinePassword(_ url: String, at here: String) throws {
        let hasUserInfoPassword = url.range(of: #"^[a-z]+://[^/@:]+:[^/@]*@"#, options: .regularExpression) != nil
        if hasUserInfoPassword || url.contains("password=") {
            throw CLIError("\(here): the URL carries a password; secrets never go in lifeboat.yaml: use passwordEnv or passwordFile")
        }
    }

    private static func `where`(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    func location(named name: String) throws -> Location {
        guard let l = locations.first(where: { $0.name == name }) else {
            throw CLIError("no location named '\(name)' in the configuration: it has \(locations.map(\.name).joined(separator: ", "))")
        }
        return l
    }

    var primary: Location? { locations.first { $0.role == .primary } }

    func source(named name: String) throws -> Source {
        guard let s = sources.first(where: { $0.name == name }) else {
            throw CLIError("no source named '\(name)' in \(file): it has \(sources.isEmpty ? "none" : sources.map(\.name).joined(separator: ", "))")
        }
        return s
    }

    /// The catalog the configuration names, or `catalog.sqlite` beside the configuration file.
    func catalogLocation() throws -> CatalogLocation {
        if let url = catalog?.postgres {
            return .postgres(url: url, password: try Self.secret(environment: catalog?.passwordEnv, file: catalog?.passwordFile, for: "the catalog"))
        }
        if let path = catalog?.sqlite { return .sqlite(path: path) }
        return .sqlite(path: (file as NSString).deletingLastPathComponent + "/catalog.sqlite")
    }

    /// A secret from an environment variable or the first line of a file.
    static func secret(environment name: String?, file: String?, for what: String) throws -> String? {
        if let name {
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw CLIError("\(what): the environment variable \(name) named by passwordEnv is not set")
            }
            return value
        }
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("\(what): cannot read the passwordFile \(file)") }
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.isEmpty else { throw CLIError("\(what): the passwordFile \(file) is empty") }
            return line
        }
        return nil
    }

    func backend(for location: Location, create: Bool = false) throws -> any StorageBackend {
        if location.path.hasPrefix("s3://") {
            return PackCachingBackend(RetryingBackend(try s3Backend(location)))
        }
        return location.medium != nil
            ? try RemovableMediaBackend(path: location.path, create: create) : try LocalDirectoryBackend(path: location.path, create: create)
    }

    /// As ``backend(for:create:)``; with `create`, an S3 location's bucket is made when missing.
    func openBackend(for location: Location, create: Bool) async throws -> any StorageBackend {
        guard create, location.path.hasPrefix("s3://") else { return try backend(for: location, create: create) }
        let s3 = try s3Backend(location)
        try await s3.createBucketIfMissing()
        return PackCachingBackend(RetryingBackend(s3))
    }

    private func s3Backend(_ location: Location) throws -> S3Backend {
        try S3Location.backend(
            location.path, endpoint: nil, region: nil, environment: ProcessInfo.processInfo.environment, objectLock: location.objectLock?.lock)
    }
}

extension LifeboatConfiguration.Source {
    func validate(at here: String) throws {
        if passwordEnv != nil && passwordFile != nil { throw CLIError("\(here): source '\(name)': give passwordEnv or passwordFile, not both") }
        switch kind {
        case .files:
            guard let paths, !paths.isEmpty else { throw CLIError("\(here): files source '\(name)' needs paths: [absolute paths]") }
            for p in paths where !p.hasPrefix("/") { throw CLIError("\(here): source '\(name)': path '\(p)' must be absolute") }
        case .sqlite:
            guard let path, path.hasPrefix("/") else { throw CLIError("\(here): sqlite source '\(name)' needs path: an absolute database path") }
        case .postgres:
            guard let url else { throw CLIError("\(here): postgres source '\(name)' needs url: a libpq URL (without a password)") }
            try LifeboatConfiguration.refuseInlinePassword(url, at: here)
            if let pgdata, !pgdata.hasPrefix("/") { throw CLIError("\(here): source '\(name)': pgdata must be absolute") }
        }
    }
}
