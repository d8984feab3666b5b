import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import LifeboatCore
import LifeboatOperations
import LifeboatTestSupport
import Testing

@testable import LifeboatServer

/// The access middleware in process (HummingbirdTesting) on a route that needs an operator,
/// with tokens in a real SQLite catalog: each kind of credential gets its status, and an
/// address that keeps failing is told to wait (the clock is a ManualClock).
@Suite("BearerTokenMiddleware")
struct BearerTokenMiddlewareTests {
    let scratch = ScratchDirectory("bearer")
    let context: OperationsContext
    let wallClock = ManualWallClock()
    let clock = ManualClock()

    init() throws {
        let config = try LifeboatConfiguration.decode(
            """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app, kind: files, paths: [\(scratch.path)/app] }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            """, file: scratch.path + "/lifeboat.yaml")
        context = OperationsContext(
            configuration: config, secrets: SecretLookup(environment: [:]), backends: LocationBackends(environment: [:], sharing: { HTTPClient.shared }),
            requester: Requester(host: "testhost", username: "tester"), programVersion: "test", clock: clock)
    }

    var tokens: AccessTokens {
        var t = AccessTokens(context: context)
        let wallClock = self.wallClock
        t.now = { wallClock.now }
        return t
    }

    /// A router as the daemon's, with one route that needs an operator and answers the caller.
    func app(throttle: AuthenticationThrottle.Policy = .init()) -> some ApplicationProtocol {
        let router = Router(context: LifeboatRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(
            middleware: AccessMiddleware(
                tokens: tokens, throttle: AuthenticationThrottle(policy: throttle, clock: clock), writer: AuditWriter(trail: AuditTrail(context: context))))
        router.get("open") { _, context in context.identity?.description ?? "anonymous" }
        router.post("probe") { _, context in try context.require(.operator).description }
        return Application(router: router)
    }

    func errorCode(_ response: TestResponse) throws -> String? {
        let json = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: [String: String]]
        return json?["error"]?["code"]
    }

    @Test("each credential gets its status: valid 200, too low a role 403, and none, malformed, wrong, expired or revoked 401")
    func credentials() async throws {
        let operatorToken = try await tokens.create(name: "ops", role: .operator, lifetime: nil).token
        let adminToken = try await tokens.create(name: "boss", role: .admin, lifetime: nil).token
        let auditorToken = try await tokens.create(name: "reader", role: .auditor, lifetime: nil).token
        let expiring = try await tokens.create(name: "temp", role: .admin, lifetime: .seconds(60)).token
        let revoked = try await tokens.create(name: "gone", role: .admin, lifetime: nil).token
        _ = try await tokens.revoke(name: "gone")
        wallClock.advance(by: 61)

        let cases: [(header: String?, status: HTTPResponse.Status, body: String?)] = [
            ("Bearer \(operatorToken)", .ok, "ops (operator)"),
            ("Bearer \(adminToken)", .ok, "boss (admin)"),
            ("bearer   \(adminToken)", .ok, "boss (admin)"),
            ("Bearer \(auditorToken)", .forbidden, nil),
            (nil, .unauthorized, nil),
            ("Basic dXNlcjpwYXNz", .unauthorized, nil),
            ("Bearer", .unauthorized, nil),
            ("Bearer \(operatorToken) extra", .unauthorized, nil),
            ("Bearer \(operatorToken.dropLast())", .unauthorized, nil),
            ("Bearer \(AccessTokens.makeToken())", .unauthorized, nil),
            ("Bearer \(expiring)", .unauthorized, nil),
            ("Bearer \(revoked)", .unauthorized, nil),
        ]
        try await app().test(.router) { client in
            for c in cases {
                var headers = HTTPFields()
                if let header = c.header { headers[.authorization] = header }
                try await client.execute(uri: "/probe", method: .post, headers: headers) { response in
                    #expect(response.status == c.status, "\(c.header ?? "no header")")
                    if let body = c.body { #expect(String(buffer: response.body) == body) }
                    if c.status == .unauthorized {
                        #expect(response.headers[.wwwAuthenticate] == "Bearer")
                        let code = try errorCode(response)
                        #expect(code == "unauthorized")
                    }
                    if c.status == .forbidden {
                        #expect(String(buffer: response.body).contains("token 'reader' has role auditor; this needs operator or higher"))
                    }
                }
            }
            // A route that needs no role still answers, anonymous, whatever the header.
            try await client.execute(uri: "/open", method: .get, headers: [.authorization: "Bearer \(revoked)"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "anonymous")
            }
        }
    }

    @Test("the role matrix: each route that needs a role, times every credential, gets through or is refused 401 or 403; an open route answers all")
    func matrix() async throws {
        let matrix = try await AccessMatrix.make(tokens: tokens, wallClock: wallClock)
        let router = Router(context: LifeboatRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(
            middleware: AccessMiddleware(
                tokens: tokens, throttle: AuthenticationThrottle(policy: .init(maxFailures: 1000), clock: clock),
                writer: AuditWriter(trail: AuditTrail(context: context))))
        let routes: [(HTTPRequest.Method, String, Role?)] = [(.get, "/reports", .auditor), (.post, "/drills", .operator), (.post, "/recoveries", .admin), (.get, "/open", nil)]
        for (method, path, role) in routes {
            router.on(RouterPath(path), method: method) { _, context -> String in
                if let role { try context.require(role) }
                return "done"
            }
        }
        try await Application(router: router).test(.router) { client in
            for (method, path, role) in routes {
                for credential in AccessMatrix.Credential.allCases {
                    let expected = role.flatMap { AccessMatrix.refusal(credential, requires: $0) } ?? .ok
                    try await client.execute(uri: path, method: method, headers: matrix.headers[credential] ?? [:]) { response in
                        #expect(response.status == expected, "\(method) \(path) needs \(role.map(\.rawValue) ?? "nothing"), with \(credential)")
                    }
                }
            }
        }
        #expect(AccessMatrix.refusal(.operator, requires: .admin) == .forbidden)
        #expect(AccessMatrix.refusal(.admin, requires: .auditor) == nil)
    }

    @Test("after 3 failures in a minute an address gets 429 with Retry-After, even with a good token, until the minute has passed")
    func throttle() async throws {
        let good = try await tokens.create(name: "ops", role: .operator, lifetime: nil).token
        let clock = self.clock
        try await app(throttle: .init(maxFailures: 3, window: .seconds(60))).test(.router) { client in
            let bad: HTTPFields = [.authorization: "Bearer \(AccessTokens.makeToken())"]
            for _ in 0..<2 {
                try await client.execute(uri: "/probe", method: .post, headers: bad) { #expect($0.status == .unauthorized) }
            }
            clock.advance(by: .seconds(20))
            try await client.execute(uri: "/probe", method: .post, headers: bad) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/probe", method: .post, headers: [.authorization: "Bearer \(good)"]) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "40")
                let code = try errorCode(response)
                        #expect(code == "too_many_requests")
            }
            // Requests without a token are not slowed down (health checks share the address).
            try await client.execute(uri: "/open", method: .get) { #expect($0.status == .ok) }
            clock.advance(by: .seconds(39))
            try await client.execute(uri: "/probe", method: .post, headers: [.authorization: "Bearer \(good)"]) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "1")
            }
            // The first two failures leave the window: one more is allowed before the block.
            clock.advance(by: .seconds(1))
            try await client.execute(uri: "/probe", method: .post, headers: [.authorization: "Bearer \(good)"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ops (operator)")
            }
        }
    }
}
