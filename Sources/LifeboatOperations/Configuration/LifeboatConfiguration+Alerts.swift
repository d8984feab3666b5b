import Foundation

extension LifeboatConfiguration {
    /// The `alerts:` section: where the daemon sends what needs a person.
    ///
    /// ```yaml
    /// alerts:
    ///   evaluateSeconds: 60
    ///   primaryMinFreePercent: 10
    ///   webhooks:
    ///     - { name: ops, kind: json, url: "https://alerts.example/lifeboat" }
    ///     - { name: chat, kind: slack, urlEnv: SLACK_WEBHOOK_URL }
    ///     - { name: pager, kind: pagerduty, routingKeyFile: /etc/lifeboat/pagerduty-key }
    /// ```
    public struct Alerts: Decodable, Sendable {
        /// How often the catalog is read for conditions and pending notifications are sent (default 60).
        public var evaluateSeconds: Double?
        public var webhooks: [Webhook]?
        /// PRIMARY's file system with less free space than this (percent of its size) is an alert (default 5).
        public var primaryMinFreePercent: Double?

        public static let defaultPrimaryMinFreePercent = 5.0

        public var evaluateInterval: Duration { .milliseconds(Int64((evaluateSeconds ?? 60) * 1000)) }
    }

    public struct Webhook: Decodable, Sendable {
        public var name: String
        /// `json` (default), `slack` or `pagerduty` (Events API v2).
        public var kind: String?
        /// The address; a Slack address is a secret, so it may come from `urlEnv` or `urlFile` instead.
        public var url: String?
        public var urlEnv: String?
        public var urlFile: String?
        /// PagerDuty's integration key, from the environment or a file.
        public var routingKeyEnv: String?
        public var routingKeyFile: String?

        public static let pagerDutyURL = "https://events.pagerduty.com/v2/enqueue"
    }

    func validateAlerts(at here: String) throws {
        guard let alerts else { return }
        if let s = alerts.evaluateSeconds, !(0.05...86_400).contains(s) {
            throw ConfigurationError.invalid(at: here, "alerts.evaluateSeconds must be 0.05 to 86400, not \(s)")
        }
        if let p = alerts.primaryMinFreePercent, !(0...100).contains(p) {
            throw ConfigurationError.invalid(at: here, "alerts.primaryMinFreePercent must be 0 to 100, not \(p)")
        }
        var names = Set<String>()
        for w in alerts.webhooks ?? [] {
            guard names.insert(w.name).inserted else { throw ConfigurationError.invalid(at: here, "webhook '\(w.name)' is named twice") }
            let kind = w.kind ?? "json"
            guard ["json", "slack", "pagerduty"].contains(kind) else {
                throw ConfigurationError.invalid(at: here, "webhook '\(w.name)': kind '\(kind)' is not json, slack or pagerduty")
            }
            let sources = [w.url, w.urlEnv, w.urlFile].compactMap { $0 }.count
            guard sources == 1 || (sources == 0 && kind == "pagerduty") else {
                throw ConfigurationError.invalid(at: here, "webhook '\(w.name)' needs exactly one of url, urlEnv or urlFile")
            }
            if let url = w.url, URL(string: url)?.scheme.map({ ["http", "https"].contains($0) }) != true {
                throw ConfigurationError.invalid(at: here, "webhook '\(w.name)': url '\(url)' is not an http(s) address")
            }
            if kind == "pagerduty" && (w.routingKeyEnv == nil) == (w.routingKeyFile == nil) {
                throw ConfigurationError.invalid(at: here, "webhook '\(w.name)': pagerduty needs exactly one of routingKeyEnv or routingKeyFile")
            }
        }
    }
}

extension LifeboatConfiguration.Alerts {
    enum CodingKeys: String, CodingKey, CaseIterable { case evaluateSeconds, webhooks, primaryMinFreePercent }

    /// A mistyped key of `alerts:` is an error, as everywhere in lifeboat.yaml (ConfigurationKeys).
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self, part: "alerts")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            evaluateSeconds: try c.decodeIfPresent(Double.self, forKey: .evaluateSeconds), webhooks: try c.decodeIfPresent([LifeboatConfiguration.Webhook].self, forKey: .webhooks),
            primaryMinFreePercent: try c.decodeIfPresent(Double.self, forKey: .primaryMinFreePercent))
    }
}

extension LifeboatConfiguration.Webhook {
    enum CodingKeys: String, CodingKey, CaseIterable { case name, kind, url, urlEnv, urlFile, routingKeyEnv, routingKeyFile }

    /// A mistyped key of an alert webhook is an error, as everywhere in lifeboat.yaml.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self, part: "an alert webhook")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), kind: try c.decodeIfPresent(String.self, forKey: .kind),
            url: try c.decodeIfPresent(String.self, forKey: .url), urlEnv: try c.decodeIfPresent(String.self, forKey: .urlEnv),
            urlFile: try c.decodeIfPresent(String.self, forKey: .urlFile), routingKeyEnv: try c.decodeIfPresent(String.self, forKey: .routingKeyEnv),
            routingKeyFile: try c.decodeIfPresent(String.self, forKey: .routingKeyFile))
    }
}
