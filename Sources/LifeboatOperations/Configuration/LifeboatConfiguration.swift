import Foundation
import LifeboatCatalog
import LifeboatCore

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
/// schedules:                     # a source with none gets the seed's (LifeboatConfiguration+Schedules.swift)
///   - { source: main, type: FULL, cron: "0 2 * * 0", timeZone: Europe/Berlin }
///   - { source: main, type: TRANSACTION_LOG, cron: "0 */4 * * *" }
/// server: { listen: "127.0.0.1:8470", maxConcurrentJobs: 2, shutdownGrace: 5m, timeZone: Europe/Berlin }
/// catalog: { sqlite: /var/lib/lifeboat/catalog.sqlite }
/// passphrase: { file: /etc/lifeboat/passphrase }
/// webhooks: { ops: "https://hooks.example.org/lifeboat" }
/// ```
///
/// Secrets never live here, only where to find them: files and environment variables.
/// Loading is ``load(_:)`` (LifeboatConfiguration+Loading.swift), the checks with line
/// numbers are in LifeboatConfiguration+Validation.swift, and secrets are looked up by
/// ``SecretLookup``.
public struct LifeboatConfiguration: Decodable, Sendable {
    public var locations: [Location]
    /// What is backed up (used by `run` and the scheduler).
    public var sources: [Source]
    /// When each source is backed up, and how.
    public var schedules: [Schedule]
    public var catalog: Catalog?
    /// Where the repositories' passphrase comes from when neither a flag nor the
    /// environment gives it: a file or an environment variable, never this file.
    public var passphrase: PassphraseSource?
    /// Where recovery plans' NOTIFY steps post: name -> http(s) URL.
    public var webhooks: [String: String]
    /// How `lifeboat serve` runs: where it listens, how many jobs at once, its grace period.
    public var server: Server?
    /// Where the daemon sends what needs a person (webhooks).
    public var alerts: Alerts?
    /// The file this came from (absolute); the default catalog lives beside it.
    public var file = ""

    enum CodingKeys: String, CodingKey, CaseIterable { case locations, sources, schedules, catalog, passphrase, webhooks, server, alerts }

    /// Missing sections are empty; `file` is set by ``load(_:)``.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self, part: "the configuration")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        locations = try c.decodeIfPresent([Location].self, forKey: .locations) ?? []
        sources = try c.decodeIfPresent([Source].self, forKey: .sources) ?? []
        schedules = try c.decodeIfPresent([Schedule].self, forKey: .schedules) ?? []
        catalog = try c.decodeIfPresent(Catalog.self, forKey: .catalog)
        passphrase = try c.decodeIfPresent(PassphraseSource.self, forKey: .passphrase)
        webhooks = try c.decodeIfPresent([String: String].self, forKey: .webhooks) ?? [:]
        server = try c.decodeIfPresent(Server.self, forKey: .server)
        alerts = try c.decodeIfPresent(Alerts.self, forKey: .alerts)
    }

    public struct PassphraseSource: Decodable, Sendable {
        public var file: String?
        public var env: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case file, env }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self, part: "passphrase")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            file = try c.decodeIfPresent(String.self, forKey: .file)
            env = try c.decodeIfPresent(String.self, forKey: .env)
        }
    }

    /// A backup source: `files` (paths), `sqlite` (path) or `postgres` (url, pgdata).
    public struct Source: Decodable, Sendable {
        public var name: String
        public var kind: SourceKind
        public var paths: [String]?
        public var exclude: [String]?
        public var path: String?
        public var url: String?
        public var pgdata: String?
        /// Where the database password comes from: an environment variable or a file, never this file.
        public var passwordEnv: String?
        public var passwordFile: String?
        /// PostgreSQL: indexes checked with amcheck before each backup.
        public var amcheckIndexes: [String]?
        /// The recovery point objective: how old the newest restorable point may grow (36h,
        /// 4h, 7d); `status`, metrics and alerts hold the source to it.
        public var rpo: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case name, kind, paths, exclude, path, url, pgdata, passwordEnv, passwordFile, amcheckIndexes, rpo }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self, part: "a source")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            kind = try c.decodeRawValue(SourceKind.self, forKey: .kind, what: "kind", plural: "kinds")
            paths = try c.decodeIfPresent([String].self, forKey: .paths)
            exclude = try c.decodeIfPresent([String].self, forKey: .exclude)
            path = try c.decodeIfPresent(String.self, forKey: .path)
            url = try c.decodeIfPresent(String.self, forKey: .url)
            pgdata = try c.decodeIfPresent(String.self, forKey: .pgdata)
            passwordEnv = try c.decodeIfPresent(String.self, forKey: .passwordEnv)
            passwordFile = try c.decodeIfPresent(String.self, forKey: .passwordFile)
            amcheckIndexes = try c.decodeIfPresent([String].self, forKey: .amcheckIndexes)
            rpo = try c.decodeIfPresent(String.self, forKey: .rpo)
        }
    }

    public struct Schedule: Decodable, Sendable {
        public var source: String
        public var type: BackupType
        public var cron: String
        /// SCHEDULED (the default) or ON_CHANGE, as the BackupLog records it.
        public var scheduleType: ScheduleType?
        /// The wall clock `cron` reads (an IANA name such as Europe/Berlin); default
        /// `server.timeZone`, else the host's.
        public var timeZone: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case source, type, cron, scheduleType, timeZone }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self, part: "a schedule")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            source = try c.decode(String.self, forKey: .source)
            cron = try c.decode(String.self, forKey: .cron)
            type = try c.decodeRawValue(BackupType.self, forKey: .type, what: "type")
            scheduleType = try c.decodeRawValueIfPresent(ScheduleType.self, forKey: .scheduleType, what: "scheduleType")
            timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
        }
    }

    /// Where the BackupLog lives: a SQLite file (the default) or a PostgreSQL URL.
    public struct Catalog: Decodable, Sendable {
        public var sqlite: String?
        public var postgres: String?
        public var passwordEnv: String?
        public var passwordFile: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case sqlite, postgres, passwordEnv, passwordFile }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self, part: "catalog")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sqlite = try c.decodeIfPresent(String.self, forKey: .sqlite)
            postgres = try c.decodeIfPresent(String.self, forKey: .postgres)
            passwordEnv = try c.decodeIfPresent(String.self, forKey: .passwordEnv)
            passwordFile = try c.decodeIfPresent(String.self, forKey: .passwordFile)
        }
    }

    public struct Location: Decodable, Sendable {
        public var name: String
        public var role: LocationRole
        public var path: String
        public var medium: String?
        /// Off the premises (default: every role but PRIMARY).
        public var offsite: Bool?
        public var retention: Retention?
        /// S3 only: every object written there is immutable for this long (S3 Object Lock).
        public var objectLock: ObjectLockSetting?
        /// S3 only: the most its transfers may use each way (`--limit-upload` and
        /// `--limit-download` override it for one command).
        public var limits: TransferLimits?

        enum CodingKeys: String, CodingKey, CaseIterable { case name, role, path, medium, offsite, retention, objectLock, limits }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self, part: "a location")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            role = try c.decodeRawValue(LocationRole.self, forKey: .role, what: "role", plural: "roles")
            path = try c.decode(String.self, forKey: .path)
            medium = try c.decodeIfPresent(String.self, forKey: .medium)
            offsite = try c.decodeIfPresent(Bool.self, forKey: .offsite)
            retention = try c.decodeIfPresent(Retention.self, forKey: .retention)
            objectLock = try c.decodeIfPresent(ObjectLockSetting.self, forKey: .objectLock)
            limits = try c.decodeIfPresent(TransferLimits.self, forKey: .limits)
        }

        public var isOffsite: Bool { offsite ?? (role != .primary) }
        /// Offline, write-once or locked: a copy ransomware on this host cannot erase.
        public var isOfflineOrImmutable: Bool { role == .airGapped || medium != nil || objectLock != nil }
        public var isS3: Bool { path.hasPrefix("s3://") }
        /// What the 3-2-1-1-0 rule counts as a media type.
        public var mediaType: String { role == .airGapped ? "air-gapped" : medium != nil ? "removable" : isS3 ? "object-storage" : "disk" }
        /// A medium's folder is made only where its mount point exists: without it the
        /// medium is not mounted, and writing there would fill the host's own disk.
        public var mayBeCreated: Bool {
            medium == nil || FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent)
        }
    }

    /// A location's bandwidth, in KiB per second each way (restic's unit): `limits: { upload: 2048 }`.
    public struct TransferLimits: Decodable, Sendable, Equatable {
        public var upload: Int?
        public var download: Int?

        enum CodingKeys: String, CodingKey, CaseIterable { case upload, download }

        public init(upload: Int? = nil, download: Int? = nil) {
            self.upload = upload
            self.download = download
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self, part: "limits")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            upload = try c.decodeIfPresent(Int.self, forKey: .upload)
            download = try c.decodeIfPresent(Int.self, forKey: .download)
        }

        /// `other`'s limits where it has them, these elsewhere.
        public func overridden(by other: TransferLimits) -> TransferLimits {
            TransferLimits(upload: other.upload ?? upload, download: other.download ?? download)
        }
    }

    public struct ObjectLockSetting: Decodable, Sendable {
        public var mode: String
        public var days: Int

        enum CodingKeys: String, CodingKey, CaseIterable { case mode, days }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self, part: "objectLock")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            mode = try c.decode(String.self, forKey: .mode)
            days = try c.decode(Int.self, forKey: .days)
        }

        public var lock: ObjectLock? {
            ObjectLock.Mode(rawValue: mode).map { ObjectLock(mode: $0, period: .seconds(days * 86_400)) }
        }
    }

    public struct Retention: Decodable, Sendable {
        public var keepLast: Int?
        public var keepHourly: Int?
        public var keepDaily: Int?
        public var keepWeekly: Int?
        public var keepMonthly: Int?
        public var keepYearly: Int?
        public var keepWithin: String?
        public var keepTags: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable { case keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly, keepWithin, keepTags }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self, part: "retention")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            keepLast = try c.decodeIfPresent(Int.self, forKey: .keepLast)
            keepHourly = try c.decodeIfPresent(Int.self, forKey: .keepHourly)
            keepDaily = try c.decodeIfPresent(Int.self, forKey: .keepDaily)
            keepWeekly = try c.decodeIfPresent(Int.self, forKey: .keepWeekly)
            keepMonthly = try c.decodeIfPresent(Int.self, forKey: .keepMonthly)
            keepYearly = try c.decodeIfPresent(Int.self, forKey: .keepYearly)
            keepWithin = try c.decodeIfPresent(String.self, forKey: .keepWithin)
            keepTags = try c.decodeIfPresent([String].self, forKey: .keepTags)
        }

        /// - Parameter here: where the setting is (`file:line`), for the error.
        public func policy(at here: String) throws -> RetentionPolicy {
            for (key, value) in [
                ("keepLast", keepLast), ("keepHourly", keepHourly), ("keepDaily", keepDaily), ("keepWeekly", keepWeekly),
                ("keepMonthly", keepMonthly), ("keepYearly", keepYearly),
            ] {
                if let value, value < 0 { throw ConfigurationError.invalid(at: here, "\(key) cannot be negative (\(value))") }
            }
            var within: Duration?
            if let keepWithin {
                guard let d = RetentionPolicy.parseDuration(keepWithin) else {
                    throw ConfigurationError.invalid(at: here, "keepWithin '\(keepWithin)' is not a duration like 36h, 7d, 2w, 6m or 1y")
                }
                within = d
            }
            return RetentionPolicy(
                last: keepLast ?? 0, hourly: keepHourly ?? 0, daily: keepDaily ?? 0, weekly: keepWeekly ?? 0, monthly: keepMonthly ?? 0,
                yearly: keepYearly ?? 0, within: within, tags: keepTags ?? [])
        }
    }

    // MARK: Lookups

    /// The location named `name`; the error lists the names there are.
    public func location(named name: String) throws -> Location {
        guard let l = locations.first(where: { $0.name == name }) else {
            throw ConfigurationError.unknownLocation(name, known: locations.map(\.name), file: file)
        }
        return l
    }

    public var primary: Location? { locations.first { $0.role == .primary } }

    /// The PRIMARY location, which backups write to.
    public func requirePrimary() throws -> Location {
        guard let primary else { throw ConfigurationError.noPrimary(file: file) }
        return primary
    }

    /// The source named `name`; the error lists the names there are.
    public func source(named name: String) throws -> Source {
        guard let s = sources.first(where: { $0.name == name }) else {
            throw ConfigurationError.unknownSource(name, known: sources.map(\.name), file: file)
        }
        return s
    }

    /// The catalog the configuration names, or `catalog.sqlite` beside the configuration file.
    public func catalogLocation(secrets: SecretLookup) throws -> CatalogLocation {
        if let url = catalog?.postgres {
            return .postgres(url: url, password: try secrets.secret(environment: catalog?.passwordEnv, file: catalog?.passwordFile, for: "the catalog"))
        }
        if let path = catalog?.sqlite { return .sqlite(path: path) }
        return .sqlite(path: (file as NSString).deletingLastPathComponent + "/catalog.sqlite")
    }

    /// The policy a location's `retention` names, if any.
    public func retentionPolicy(of location: Location) throws -> RetentionPolicy? {
        try location.retention?.policy(at: file)
    }
}

extension KeyedDecodingContainer {
    /// A raw-valued enum whose error lists the values there are: "type 'X' is not one of
    /// FULL, …", or with `plural`, "role 'X' is unknown (roles are PRIMARY, …)".
    func decodeRawValue<T: RawRepresentable & CaseIterable>(_ type: T.Type, forKey key: Key, what: String, plural: String? = nil) throws -> T
    where T.RawValue == String {
        let text = try decode(String.self, forKey: key)
        guard let value = T(rawValue: text) else {
            let values = T.allCases.map(\.rawValue).joined(separator: ", ")
            let guess = ConfigurationKeys.nearest(to: text, among: T.allCases.map(\.rawValue)).map { ": did you mean \($0)?" } ?? ""
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription: (plural.map { "\(what) '\(text)' is unknown (\($0) are \(values))" } ?? "\(what) '\(text)' is not one of \(values)") + guess)
        }
        return value
    }

    func decodeRawValueIfPresent<T: RawRepresentable & CaseIterable>(_ type: T.Type, forKey key: Key, what: String) throws -> T?
    where T.RawValue == String {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeRawValue(type, forKey: key, what: what)
    }
}
