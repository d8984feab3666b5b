import Foundation
import LifeboatCore

extension LifeboatConfiguration {
    /// The `server:` section: how `lifeboat serve` runs. Every field has a default, so the
    /// section may be left out.
    public struct Server: Decodable, Sendable {
        /// `HOST:PORT` of the health and metrics listener (default 127.0.0.1:8470).
        public var listen: String?
        /// Jobs that run at once, across sources (default 2).
        public var maxConcurrentJobs: Int?
        /// On SIGTERM, how long running jobs may go on before they are cancelled (default 300).
        public var shutdownGraceSeconds: Int?
        /// The wall clock of schedules that name none (default: the host's).
        public var timeZone: String?
        /// When the repository is pruned after retention (default weekly, Sunday 05:00, after the seed's FULL).
        public var prune: String?
        /// `plain` (default) or `json`: one JSON object per log line.
        public var logFormat: String?
        /// The quiet period that ends a burst of changes in a watched folder (default 2).
        public var changeDebounceSeconds: Double?
        /// HTTPS for the listener: a PEM certificate (chain) and its private key. Without it
        /// the listener speaks plain HTTP, which is why it binds 127.0.0.1 unless told otherwise.
        public var tls: TLS?

        /// `server.tls`: both files are read when `lifeboat serve` starts (the key may be
        /// readable by root only, so commands that do not serve never touch it).
        public struct TLS: Decodable, Sendable, Equatable {
            public var certificate: String
            public var key: String

            public init(certificate: String, key: String) {
                self.certificate = certificate
                self.key = key
            }
        }

        public static let defaultListen = "127.0.0.1:8470"
        public static let defaultMaxConcurrentJobs = 2
        public static let defaultShutdownGrace = Duration.seconds(300)
        public static let defaultPrune = "0 5 * * 0"
    }

    /// The `server:` section with its defaults filled in.
    public var serverSettings: Server { server ?? Server() }
}

extension LifeboatConfiguration.Server {

    public var shutdownGrace: Duration { shutdownGraceSeconds.map { .seconds($0) } ?? Self.defaultShutdownGrace }

    public var changeDebounce: Duration { .milliseconds(Int64((changeDebounceSeconds ?? 2) * 1000)) }

    /// The zone schedules read by default; the error names the setting.
    public func defaultTimeZone() throws -> TimeZone {
        guard let timeZone else { return TimeZone.current }
        guard let zone = TimeZone(identifier: timeZone) else {
            throw ConfigurationError.invalid(at: "server.timeZone", "'\(timeZone)' is not a time zone name such as Europe/Berlin or UTC")
        }
        return zone
    }

    func validate(at here: String) throws {
        if let n = maxConcurrentJobs, !(1...64).contains(n) {
            throw ConfigurationError.invalid(at: here, "server.maxConcurrentJobs must be 1 to 64, not \(n)")
        }
        if let s = shutdownGraceSeconds, s < 0 { throw ConfigurationError.invalid(at: here, "server.shutdownGraceSeconds cannot be negative (\(s))") }
        if let timeZone, TimeZone(identifier: timeZone) == nil {
            throw ConfigurationError.invalid(at: here, "server.timeZone '\(timeZone)' is not a time zone name such as Europe/Berlin or UTC")
        }
        if let prune {
            do { _ = try CronExpression(prune) } catch { throw ConfigurationError.invalid(at: here, "server.prune: \(error)") }
        }
        if let d = changeDebounceSeconds, !(0.05...600).contains(d) {
            throw ConfigurationError.invalid(at: here, "server.changeDebounceSeconds must be 0.05 to 600, not \(d)")
        }
        if let logFormat, !["plain", "json"].contains(logFormat) {
            throw ConfigurationError.invalid(at: here, "server.logFormat must be plain or json, not '\(logFormat)'")
        }
        if let tls, tls.certificate.isEmpty || tls.key.isEmpty {
            throw ConfigurationError.invalid(at: here, "server.tls needs both certificate and key: the paths of a PEM certificate and its private key")
        }
        if let listen, ListenAddress(listen) == nil {
            throw ConfigurationError.invalid(at: here, "server.listen must be HOST:PORT such as 127.0.0.1:8470, not '\(listen)'")
        }
    }
}

extension LifeboatConfiguration.Server {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, maxConcurrentJobs, shutdownGraceSeconds, timeZone, prune, logFormat, changeDebounceSeconds, tls
    }

    /// A mistyped key of `server:` is an error, as everywhere in lifeboat.yaml (ConfigurationKeys).
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self, part: "server")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        listen = try c.decodeIfPresent(String.self, forKey: .listen)
        maxConcurrentJobs = try c.decodeIfPresent(Int.self, forKey: .maxConcurrentJobs)
        shutdownGraceSeconds = try c.decodeIfPresent(Int.self, forKey: .shutdownGraceSeconds)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
        prune = try c.decodeIfPresent(String.self, forKey: .prune)
        logFormat = try c.decodeIfPresent(String.self, forKey: .logFormat)
        changeDebounceSeconds = try c.decodeIfPresent(Double.self, forKey: .changeDebounceSeconds)
        tls = try c.decodeIfPresent(TLS.self, forKey: .tls)
    }
}

extension LifeboatConfiguration.Server.TLS {
    enum CodingKeys: String, CodingKey, CaseIterable { case certificate, key }

    /// Both keys are required and no other is allowed: a mistyped `keyFile` must not leave
    /// the listener on plain HTTP.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self, part: "server.tls")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificate = try c.decode(String.self, forKey: .certificate)
        key = try c.decode(String.self, forKey: .key)
    }
}
