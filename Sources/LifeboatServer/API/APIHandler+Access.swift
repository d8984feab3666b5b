import Foundation
import Hummingbird
import LifeboatAPI
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import OpenAPIRuntime

/// The audit trail and the tokens: what `lifeboat audit` and `lifeboat token` do, for an
/// auditor reading the trail and an admin managing who may call.
extension APIHandler {
    var tokens: AccessTokens { AccessTokens(context: context) }

    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let q = input.query
        try APIRecords.require(q.limit.map { (1...10_000).contains($0) } ?? true, "limit must be 1 to 10000, not \(q.limit ?? 0)")
        let filter = AuditFilter(since: q.since, tokenName: q.token, outcome: q.outcome?.rawValue, limit: q.limit ?? 1000)
        let events = try await AuditTrail(context: context).list(filter)
        return .ok(.init(body: .json(.init(events: try events.map { try APIRecords.convert(AuditEventJSON($0)) }))))
    }

    func verifyAuditTrail(_ input: Operations.VerifyAuditTrail.Input) async throws -> Operations.VerifyAuditTrail.Output {
        .ok(.init(body: .json(try APIRecords.convert(AuditVerifyJSON(try await AuditTrail(context: context).verify())))))
    }

    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        let access = tokens
        let records = try await access.list()
        return .ok(.init(body: .json(.init(tokens: try records.map { try APIRecords.convert(TokenListJSON($0, now: access.now())) }))))
    }

    /// The answer carries the token's text, the one time it exists outside the caller's
    /// hands: ``IdempotencyMiddleware`` never stores it (a replay would need the secret kept).
    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        guard case .json(let body) = input.body else { throw APIRecords.unsupportedBody }
        AuditNote.current?.target = "token \(body.name) (\(body.role.rawValue))"
        var lifetime: Duration?
        if let expires = body.expires {
            guard let duration = PlanDuration(expires) else { throw AccessError.invalidLifetime(expires) }
            lifetime = duration.duration
        }
        guard let role = Role(rawValue: body.role.rawValue) else { throw HTTPError(.badRequest, message: "role must be auditor, operator or admin") }
        let made = try await tokens.create(name: body.name, role: role, lifetime: lifetime, requester: APIRequestScope.requester)
        return .created(
            .init(headers: .init(location: "/api/tokens"), body: .json(try APIRecords.convert(TokenCreateJSON(token: made.token, record: made.record)))))
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        AuditNote.current?.target = "token \(input.path.name)"
        let access = tokens
        let revoked = try await access.revoke(name: input.path.name, requester: APIRequestScope.requester)
        return .ok(.init(body: .json(try APIRecords.convert(TokenListJSON(revoked, now: access.now())))))
    }
}
