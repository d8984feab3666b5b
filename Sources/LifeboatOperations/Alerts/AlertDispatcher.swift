import AsyncHTTPClient
import Foundation
import LifeboatCatalog
import Logging
import NIOCore

/// The daemon's alerts: each evaluation reads the catalog's ``StatusReport``, opens an alert
/// for every condition newly seen and resolves those gone (the catalog keeps both, so one
/// alert per condition until it resolves, then one "resolved", across restarts), then sends
/// every notification due to its webhook: generic JSON, Slack-compatible (`text`) or
/// PagerDuty Events v2 (trigger and resolve under the condition as `dedup_key`). A failed
/// send is kept and tried again after 30 s, doubling to at most an hour.
///
/// A condition is a state, not an event: an RPO breached with no failure at all (the
/// scheduler silent) is alerted like a failed job.
public struct AlertDispatcher: Sendable {
    public var context: OperationsContext
    public var client: HTTPClient

    /// A webhook with its secrets looked up.
    public struct Target: Sendable {
        public var name: String
        public var kind: String
        public var url: String
        public var routingKey: String?
    }

    public let targets: [Target]

    /// - Throws: ``ConfigurationError`` when a webhook's address or key cannot be found.
    public init(context: OperationsContext, client: HTTPClient = .shared) throws {
        self.context = context
        self.client = client
        let secrets = context.secrets
        targets = try (context.configuration.alerts?.webhooks ?? []).map { w in
            let kind = w.kind ?? "json"
            let url =
                try w.url ?? secrets.secret(environment: w.urlEnv, file: w.urlFile, for: "webhook '\(w.name)'")
                ?? LifeboatConfiguration.Webhook.pagerDutyURL
            let key = kind == "pagerduty" ? try secrets.secret(environment: w.routingKeyEnv, file: w.routingKeyFile, for: "webhook '\(w.name)'") : nil
            return Target(name: w.name, kind: kind, url: url, routingKey: key)
        }
    }

    /// Records what changed since the last evaluation.
    /// - Parameter probe: what reading the locations tells (unreachable, 3-2-1-1-0, free
    ///   space, WAL archiving), beside the catalog's conditions; nil: the catalog's alone.
    /// - Returns: how many conditions were opened and resolved.
    @discardableResult
    public func evaluate(now: Date = Date(), probe: HealthProbe? = nil) async throws -> (opened: Int, resolved: Int) {
        let report = try await StatusReport.load(context, now: now)
        var conditions = report.conditions
        if let probe { conditions += probe.conditions(await probe.current(now: now), report: report, now: now) }
        let current = Dictionary(conditions.map { ($0.key, $0.message) }, uniquingKeysWith: { a, _ in a })
        let names = targets.map(\.name)
        return try await context.withCatalog { try await $0.updateAlerts(current: current, webhooks: names, at: now) }
    }

    /// Sends every notification due; returns how many were delivered.
    @discardableResult
    public func deliver(now: Date = Date()) async throws -> Int {
        let notices = try await context.withCatalog { try await $0.dueAlertNotices(at: now) }
        var delivered = 0
        for notice in notices {
            guard let target = targets.first(where: { $0.name == notice.webhook }) else { continue }
            var failure: String?
            do {
                try await send(notice, to: target)
                delivered += 1
            } catch {
                failure = "\(error)"
                context.logger.warning("alert to webhook '\(target.name)' not delivered, tried again later: \(error)", metadata: ["condition": "\(notice.condition)"])
            }
            let backoff = min(30 * pow(2, Double(notice.attempts)), 3600)
            let error = failure
            try await context.withCatalog { try await $0.recordAlertDelivery(notice.id, error: error, retryAt: now.addingTimeInterval(backoff), at: now) }
        }
        return delivered
    }

    func send(_ notice: AlertNotice, to target: Target) async throws {
        var request = HTTPClientRequest(url: target.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try Self.body(notice, kind: target.kind, routingKey: target.routingKey, host: context.requester.host)))
        let response = try await client.execute(request, timeout: .seconds(30))
        // The answer's body is not needed, only read so that the connection is reused.
        _ = try? await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else { throw AlertError.refused(target.name, Int(response.status.code)) }
    }

    /// The request body each kind of webhook expects.
    static func body(_ notice: AlertNotice, kind: String, routingKey: String?, host: String) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let firing = notice.event == .firing
        switch kind {
        case "slack":
            return try encoder.encode(["text": "\(firing ? ":rotating_light:" : ":white_check_mark:") lifeboat on \(host): \(notice.message)"])
        case "pagerduty":
            struct Event: Encodable {
                struct Payload: Encodable {
                    var summary: String
                    var source: String
                    var severity: String
                }
                var routing_key: String
                var event_action: String
                var dedup_key: String
                var payload: Payload
            }
            return try encoder.encode(
                Event(
                    routing_key: routingKey ?? "", event_action: firing ? "trigger" : "resolve", dedup_key: "lifeboat:\(host):\(notice.condition)",
                    payload: .init(summary: notice.message, source: "lifeboat@\(host)", severity: "critical")))
        default:
            return try encoder.encode([
                "condition": notice.condition, "status": firing ? "firing" : "resolved", "message": notice.message, "host": host,
                "since": ISO8601DateFormatter().string(from: notice.createdAt),
            ])
        }
    }
}

/// A webhook that answered other than 2xx.
public enum AlertError: Error, Sendable, CustomStringConvertible {
    case refused(String, Int)

    public var description: String {
        switch self {
        case .refused(let name, let status): return "webhook '\(name)' answered HTTP \(status): check its url and key"
        }
    }
}
