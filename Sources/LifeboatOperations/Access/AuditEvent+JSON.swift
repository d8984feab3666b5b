import Foundation
import LifeboatCatalog

// The JSON of `audit list` and `audit verify`, and of the API's audit routes.

/// An event with every key present (null when absent).
public struct AuditEventJSON: Encodable {
    public let event: AuditEvent

    public init(_ event: AuditEvent) { self.event = event }

    enum CodingKeys: String, CodingKey {
        case sequence, at, tokenName, role, address, method, route, status, outcome, target, detail, previousHash, hash
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(event.sequence, forKey: .sequence)
        try c.encode(event.at, forKey: .at)
        try c.encode(event.tokenName, forKey: .tokenName)
        try c.encode(event.role, forKey: .role)
        try c.encode(event.address, forKey: .address)
        try c.encode(event.method, forKey: .method)
        try c.encode(event.route, forKey: .route)
        try c.encode(event.status, forKey: .status)
        try c.encode(event.outcome, forKey: .outcome)
        try c.encode(event.target, forKey: .target)
        try c.encode(event.detail, forKey: .detail)
        try c.encode(event.previousHash, forKey: .previousHash)
        try c.encode(event.hash, forKey: .hash)
    }
}

/// `{"intact", "eventsChecked", "headSequence", "headHash", "firstBreak": {"sequence", "reason", "message"}}`, nulls where absent.
public struct AuditVerifyJSON: Encodable {
    public let result: AuditVerification

    public init(_ result: AuditVerification) { self.result = result }

    enum CodingKeys: String, CodingKey { case intact, eventsChecked, headSequence, headHash, firstBreak }
    enum BreakKeys: String, CodingKey { case sequence, reason, message }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(result.isIntact, forKey: .intact)
        try c.encode(result.eventsChecked, forKey: .eventsChecked)
        try c.encode(result.headSequence, forKey: .headSequence)
        try c.encode(result.headHash, forKey: .headHash)
        if let broken = result.firstBreak {
            var b = c.nestedContainer(keyedBy: BreakKeys.self, forKey: .firstBreak)
            try b.encode(broken.sequence, forKey: .sequence)
            try b.encode(broken.reason.rawValue, forKey: .reason)
            try b.encode(broken.description, forKey: .message)
        } else {
            try c.encodeNil(forKey: .firstBreak)
        }
    }
}
