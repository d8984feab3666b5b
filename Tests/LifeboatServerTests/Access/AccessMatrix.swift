import Hummingbird
import LifeboatOperations
import LifeboatTestSupport

/// The credentials of the role matrix (issue 14: every route times every role, no token, an
/// expired and a revoked one, here also a malformed and an unknown one), with what a route
/// that needs a role must answer each. The API's matrix test runs its routes through it, on
/// a daemon whose `authenticationThrottle` lets the matrix's failures through.
struct AccessMatrix {
    enum Credential: String, CaseIterable, Sendable, CustomStringConvertible {
        case none, malformed, unknown, expired, revoked, auditor, `operator`, admin

        var description: String { rawValue }
    }

    let headers: [Credential: HTTPFields]

    /// Makes a token of each role, an expired one (by moving `wallClock`, which `tokens` must
    /// read) and a revoked one in the tokens' catalog.
    static func make(tokens: AccessTokens, wallClock: ManualWallClock) async throws -> AccessMatrix {
        var headers: [Credential: HTTPFields] = [.none: [:], .malformed: [.authorization: "Bearer not-a-token"]]
        headers[.unknown] = [.authorization: "Bearer \(AccessTokens.makeToken())"]
        for role in Role.allCases {
            let made = try await tokens.create(name: "matrix-\(role)", role: role, lifetime: nil)
            headers[Credential(rawValue: role.rawValue)!] = [.authorization: "Bearer \(made.token)"]
        }
        let expiring = try await tokens.create(name: "matrix-expired", role: .admin, lifetime: .seconds(60))
        headers[.expired] = [.authorization: "Bearer \(expiring.token)"]
        let revoked = try await tokens.create(name: "matrix-revoked", role: .admin, lifetime: nil)
        _ = try await tokens.revoke(name: "matrix-revoked")
        headers[.revoked] = [.authorization: "Bearer \(revoked.token)"]
        wallClock.advance(by: 61)
        return AccessMatrix(headers: headers)
    }

    /// The refusal a route that needs `role` gives `credential`; nil when the call gets through.
    static func refusal(_ credential: Credential, requires role: Role) -> HTTPResponse.Status? {
        switch credential {
        case .none, .malformed, .unknown, .expired, .revoked: .unauthorized
        case .auditor, .operator, .admin: Role(rawValue: credential.rawValue)!.allows(role) ? nil : .forbidden
        }
    }
}
