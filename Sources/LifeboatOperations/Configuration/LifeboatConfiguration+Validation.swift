import Foundation
import LifeboatCore

extension LifeboatConfiguration {
    /// The checks a configuration passes before anything runs on it: unique names,
    /// absolute paths, schedules that name known sources with fitting types, secrets by
    /// reference only.
    func validate(lines: LineFinder) throws {
        var names = Set<String>()
        for (i, l) in locations.enumerated() {
            let here = lines.at("locations", i)
            guard names.insert(l.name).inserted else { throw ConfigurationError.invalid(at: here, "location '\(l.name)' is named twice") }
            guard l.path.hasPrefix("/") || l.isS3 else {
                throw ConfigurationError.invalid(at: here, "location '\(l.name)': path must be absolute or s3://bucket/prefix, not '\(l.path)'")
            }
            _ = try l.retention?.policy(at: here)
            if let limits = l.limits {
                guard l.isS3 else { throw ConfigurationError.invalid(at: here, "location '\(l.name)': limits are for s3:// locations") }
                for (what, value) in [("upload", limits.upload), ("download", limits.download)] {
                    guard let value else { continue }
                    guard value > 0 else {
                        throw ConfigurationError.invalid(at: here, "location '\(l.name)': limits \(what) is in KiB/s and must be at least 1, not \(value); leave it out for no limit")
                    }
                }
            }
            if let lock = l.objectLock {
                guard l.isS3 else { throw ConfigurationError.invalid(at: here, "location '\(l.name)': objectLock is for s3:// locations") }
                guard lock.lock != nil else {
                    throw ConfigurationError.invalid(at: here, "location '\(l.name)': objectLock mode '\(lock.mode)' is not GOVERNANCE or COMPLIANCE")
                }
                guard (1...36_500).contains(lock.days) else {
                    throw ConfigurationError.invalid(at: here, "location '\(l.name)': objectLock days must be 1 to 36500")
                }
            }
        }
        guard locations.filter({ $0.role == .primary }).count <= 1 else { throw ConfigurationError.invalid(at: lines.path, "more than one PRIMARY location") }

        var sourceKinds: [String: SourceKind] = [:]
        for (i, source) in sources.enumerated() {
            let here = lines.at("sources", i)
            guard sourceKinds.updateValue(source.kind, forKey: source.name) == nil else {
                throw ConfigurationError.invalid(at: here, "source '\(source.name)' is named twice")
            }
            try source.validate(at: here)
        }
        for (i, schedule) in schedules.enumerated() {
            let here = lines.at("schedules", i)
            guard let kind = sourceKinds[schedule.source] else {
                throw ConfigurationError.invalid(
                    at: here,
                    "the schedule names source '\(schedule.source)', which is not among the sources (\(sourceKinds.keys.sorted().joined(separator: ", ")))")
            }
            if let problem = kind.refuses(schedule.type, source: schedule.source) { throw ConfigurationError.invalid(at: here, problem) }
            do {
                _ = try CronExpression(schedule.cron)
            } catch let error as CronError {
                throw ConfigurationError.invalid(at: here, "cron: \(error)")
            }
            if let zone = schedule.timeZone, TimeZone(identifier: zone) == nil {
                throw ConfigurationError.invalid(at: here, "timeZone '\(zone)' is not a time zone name such as Europe/Berlin or UTC")
            }
        }
        try server?.validate(at: lines.at("server"))
        try validateAlerts(at: lines.at("alerts"))
        if let catalog {
            let here = lines.at("catalog")
            guard (catalog.sqlite == nil) != (catalog.postgres == nil) else {
                throw ConfigurationError.invalid(at: here, "catalog needs exactly one of sqlite: PATH or postgres: URL")
            }
            if let file = catalog.sqlite, !file.hasPrefix("/") { throw ConfigurationError.invalid(at: here, "catalog sqlite path must be absolute, not '\(file)'") }
            if let url = catalog.postgres { try Self.refuseInlinePassword(url, at: here) }
            if catalog.passwordEnv != nil && catalog.passwordFile != nil {
                throw ConfigurationError.invalid(at: here, "catalog: give passwordEnv or passwordFile, not both")
            }
        }
        if let source = passphrase {
            let here = lines.at("passphrase")
            guard (source.file == nil) != (source.env == nil) else {
                throw ConfigurationError.invalid(at: here, "passphrase needs exactly one of file: PATH or env: NAME")
            }
            if let file = source.file, !file.hasPrefix("/") { throw ConfigurationError.invalid(at: here, "passphrase file must be absolute, not '\(file)'") }
        }
        for (name, url) in webhooks.sorted(by: { $0.key < $1.key }) {
            guard let u = URL(string: url), ["http", "https"].contains(u.scheme ?? ""), u.host != nil else {
                throw ConfigurationError.invalid(at: lines.at("webhooks"), "webhook '\(name)': '\(RedactedURL(url))' is not an http:// or https:// URL")
            }
        }
    }

    /// Secrets come from the environment or files the configuration names, never from it.
    static func refuseInlinePassword(_ url: String, at here: String) throws {
        let hasUserInfoPassword = url.range(of: #"^[a-z]+://[^/@:]+:[^/@]*@"#, options: .regularExpression) != nil
        if hasUserInfoPassword || url.contains("password=") {
            throw ConfigurationError.invalid(
                at: here, "the URL carries a password; secrets never go in lifeboat.yaml: use passwordEnv or passwordFile")
        }
    }
}

extension LifeboatConfiguration.Source {
    func validate(at here: String) throws {
        if passwordEnv != nil && passwordFile != nil { throw ConfigurationError.invalid(at: here, "source '\(name)': give passwordEnv or passwordFile, not both") }
        if let rpo, RetentionPolicy.parseDuration(rpo) == nil {
            throw ConfigurationError.invalid(at: here, "source '\(name)': rpo '\(rpo)' is not a duration like 4h, 36h or 7d")
        }
        switch kind {
        case .files:
            guard let paths, !paths.isEmpty else { throw ConfigurationError.invalid(at: here, "files source '\(name)' needs paths: [absolute paths]") }
            for p in paths where !p.hasPrefix("/") { throw ConfigurationError.invalid(at: here, "source '\(name)': path '\(p)' must be absolute") }
        case .sqlite:
            guard let path, path.hasPrefix("/") else {
                throw ConfigurationError.invalid(at: here, "sqlite source '\(name)' needs path: an absolute database path")
            }
        case .postgres:
            guard let url else { throw ConfigurationError.invalid(at: here, "postgres source '\(name)' needs url: a libpq URL (without a password)") }
            try LifeboatConfiguration.refuseInlinePassword(url, at: here)
            if let pgdata, !pgdata.hasPrefix("/") { throw ConfigurationError.invalid(at: here, "source '\(name)': pgdata must be absolute") }
        }
    }
}

extension SourceKind {
    /// Why a backup type does not fit this kind of source, or nil when it does.
    public func refuses(_ type: BackupType?, source: String) -> String? {
        if type == .transactionLog && self != .postgres { return "TRANSACTION_LOG is for postgres sources; '\(source)' is \(rawValue)" }
        if type == .configuration && self != .files { return "CONFIGURATION is for files sources; '\(source)' is \(rawValue)" }
        return nil
    }
}
