import Foundation

/// A disaster-recovery plan (DESIGN §7): what to restore, check, run and tell, in which
/// order, with the recovery time and data loss the business can afford, and who to call.
/// Written as YAML (JSON is YAML too), parsed by ``parse(_:file:)``
/// (RecoveryPlan+Parsing.swift), checked against lifeboat.yaml by ``validate(against:)``
/// (RecoveryPlan+Validation.swift), stored in the catalog with every revision kept.
///
/// ```yaml
/// name: orders
/// systemType: CRITICAL        # RTO 4h by default (IMPORTANT 24h, NON_CRITICAL 72h)
/// rpo: 1h
/// steps:
///   - { name: restore-db, type: RESTORE_BACKUP, source: app-db, snapshot: latest }
///   - { name: verify-db, type: VERIFY_SYSTEM, source: app-db, query: "SELECT count(*) > 0 FROM orders" }
///   - { name: restart, type: RUN_COMMAND, command: [systemctl, restart, app], timeout: 5m, retries: 2 }
/// testing: { every: 90d }
/// ```
public struct RecoveryPlan: Sendable, Codable {
    public var name: String
    public var systemType: SystemType
    /// Overrides the system type's default recovery time objective.
    public var rto: PlanDuration?
    /// The data loss the business can afford; none: not measured against a target.
    public var rpo: PlanDuration?
    public var description: String?
    public var steps: [RecoveryStep]
    public var team: [Person]?
    public var contacts: [Person]?
    public var vendors: [Vendor]?
    public var regulatory: [RegulatoryNotice]?
    public var testing: Testing?

    /// The recovery time objective: `rto`, or the system type's default.
    public var rtoTarget: PlanDuration { rto ?? systemType.defaultRTO }

    public enum SystemType: String, Sendable, Codable, CaseIterable {
        case critical = "CRITICAL"
        case important = "IMPORTANT"
        case nonCritical = "NON_CRITICAL"

        /// DESIGN §7: 4 h, 24 h, 72 h.
        public var defaultRTO: PlanDuration {
            switch self {
            case .critical: return PlanDuration(seconds: 4 * 3600)
            case .important: return PlanDuration(seconds: 24 * 3600)
            case .nonCritical: return PlanDuration(seconds: 72 * 3600)
            }
        }
    }

    public struct Person: Sendable, Codable {
        public var name: String
        public var role: String?
        public var email: String?
        public var phone: String?
    }

    public struct Vendor: Sendable, Codable {
        public var name: String
        public var service: String?
        public var phone: String?
        public var email: String?
        public var contract: String?
    }

    /// A notification a regulation demands, due `deadline` after the incident.
    public struct RegulatoryNotice: Sendable, Codable {
        public var name: String
        public var authority: String?
        public var deadline: PlanDuration
        public var when: String?
    }

    /// How often the plan is drilled.
    public struct Testing: Sendable, Codable {
        public var every: PlanDuration
    }
}

/// One step of a plan. Which fields it needs depends on its type (checked by validation).
public struct RecoveryStep: Sendable, Codable {
    public var name: String
    public var type: StepType
    public var source: String?
    /// RESTORE_BACKUP: `latest` (the default) or a snapshot id.
    public var snapshot: String?
    /// RESTORE_BACKUP: where EXECUTE restores (default: the source's own path).
    public var target: String?
    /// RESTORE_BACKUP: the location to restore from (default: the first holding it, PRIMARY first).
    public var location: String?
    /// RESTORE_BACKUP, PostgreSQL: the recovery target.
    public var toTime: String?
    public var toLsn: String?
    public var toName: String?
    /// VERIFY_SYSTEM: a query that must return true.
    public var query: String?
    /// RUN_COMMAND: the program and its arguments (no shell).
    public var command: [String]?
    /// RUN_COMMAND: more environment variables.
    public var environment: [String: String]?
    /// HTTP_CHECK
    public var url: String?
    public var expectStatus: Int?
    /// NOTIFY: a webhook of lifeboat.yaml, and what to say.
    public var webhook: String?
    public var message: String?
    /// WAIT
    public var duration: PlanDuration?
    public var timeout: PlanDuration?
    public var retries: Int?
    public var critical: Bool?
    public var runInTest: Bool?
    /// Steps this one waits for; absent: the step before it.
    public var after: [String]?

    public enum StepType: String, Sendable, Codable, CaseIterable {
        case restoreBackup = "RESTORE_BACKUP"
        case verifySystem = "VERIFY_SYSTEM"
        case runCommand = "RUN_COMMAND"
        case httpCheck = "HTTP_CHECK"
        case notify = "NOTIFY"
        case manualApproval = "MANUAL_APPROVAL"
        case wait = "WAIT"

        public init(from decoder: any Decoder) throws {
            self = try decodeNamedValue(decoder, what: "step type")
        }
    }

    /// A failed critical step fails the execution; a failed other one only warns.
    public var isCritical: Bool { critical ?? true }
    /// Commands and HTTP checks reach production: in a drill they run only when asked to.
    public var runsInTest: Bool { runInTest ?? (type != .runCommand && type != .httpCheck) }
    public var retryCount: Int { retries ?? 0 }
    /// How long one attempt may take; nil: as long as it takes (an approval waits for a person).
    public var attemptTimeout: Duration? {
        if let timeout { return timeout.duration }
        switch type {
        case .manualApproval: return nil
        case .restoreBackup: return .seconds(4 * 3600)
        case .wait: return duration.map { $0.duration + .seconds(60) }
        default: return .seconds(300)
        }
    }
}

/// A raw-valued enum whose error lists the values there are.
private func decodeNamedValue<T: RawRepresentable & CaseIterable>(_ decoder: any Decoder, what: String) throws -> T where T.RawValue == String {
    let c = try decoder.singleValueContainer()
    let text = try c.decode(String.self)
    guard let value = T(rawValue: text) else {
        throw DecodingError.dataCorruptedError(
            in: c, debugDescription: "\(what) '\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return value
}
