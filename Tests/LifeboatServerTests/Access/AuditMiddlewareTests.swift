import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import LifeboatTestSupport
import Testing

@testable import LifeboatServer

/// The audit middleware in process, writing a real SQLite catalog: what is recorded (every
/// call that may change something, every refusal), with what, and a chain that concurrent
/// requests cannot fork.
@Suite("AuditMiddleware")
struct AuditMiddlewareTests {
    let scratch = ScratchDirectory("audit-middleware")
    let context: OperationsContext
    let clock = ManualClock()
    let wallClock = ManualWallClock()

    struct Boom: Error, CustomStringConvertible {
        var description: String { "the engine failed" }
    }

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

    var trail: AuditTrail { AuditTrail(context: context) }

    func app() -> some ApplicationProtocol {
        let router = Router(context: LifeboatRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        let wallClock = self.wallClock
        router.add(
            middleware: AccessMiddleware(
                tokens: tokens, throttle: AuthenticationThrottle(policy: .init(maxFailures: 2, window: .seconds(60)), clock: clock),
                writer: AuditWriter(trail: trail), now: { wallClock.now }))
        router.get("items") { _, context in try context.require(.auditor).tokenName }
        router.post("items/{name}") { _, context in
            let caller = try context.require(.operator)
            let name = try context.parameters.require("name")
            AuditNote.current?.target = "item \(name)"
            return "\(caller.tokenName) made \(name)"
        }
        router.post("fail") { _, context -> String in
            try context.require(.operator)
            throw Boom()
        }
        router.post("reject") { _, context -> String in
            try context.require(.operator)
            throw HTTPError(.conflict, message: "another job runs")
        }
        return Application(router: router)
    }

    @Test("mutating calls are recorded however they end, reads only when refused, with caller, route, target and reason")
    func recorded() async throws {
        let ops = try await tokens.create(name: "ops", role: .operator, lifetime: nil).token
        let reader = try await tokens.create(name: "reader", role: .auditor, lifetime: nil).token
        let temp = try await tokens.create(name: "temp", role: .admin, lifetime: .seconds(60)).token
        wallClock.advance(by: 120)
        try await app().test(.router) { client in
            let calls: [(HTTPRequest.Method, String, String?, HTTPResponse.Status)] = [
                (.get, "/items", reader, .ok),
                (.post, "/items/a1", ops, .ok),
                (.get, "/items", nil, .unauthorized),
                (.post, "/items/a2", reader, .forbidden),
                (.post, "/fail", ops, .internalServerError),
                (.post, "/reject", ops, .conflict),
                (.post, "/items/a3", temp, .unauthorized),
                (.get, "/nowhere", ops, .notFound),
                (.delete, "/nowhere", ops, .notFound),
            ]
            for (method, uri, token, status) in calls {
                let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
                try await client.execute(uri: uri, method: method, headers: headers) { #expect($0.status == status, "\(method) \(uri)") }
            }
        }
        // The API's events, after the three of `token create`.
        let events = try await trail.list().reversed().filter { $0.method != "CLI" }
        #expect(events.map(\.route) == ["/items/{name}", "/items", "/items/{name}", "/fail", "/reject", "/items/{name}", "/nowhere"])
        #expect(events.map(\.status) == [200, 401, 403, 500, 409, 401, 404])
        #expect(events.map(\.outcome) == ["ok", "unauthorized", "forbidden", "failed", "rejected", "unauthorized", "rejected"])
        #expect(events.map(\.tokenName) == ["ops", nil, "reader", "ops", "ops", "temp", "ops"])
        #expect(events.map(\.role) == ["operator", nil, "auditor", "operator", "operator", nil, "operator"])
        #expect(events.map(\.method) == ["POST", "GET", "POST", "POST", "POST", "POST", "DELETE"])
        #expect(events.map(\.target) == ["item a1", nil, "/items/a2", "/fail", "/reject", "/items/a3", "/nowhere"])
        #expect(events[0].detail == nil)
        #expect(events[1].detail?.contains("a bearer token is required") == true)
        #expect(events[2].detail == "token 'reader' has role auditor; this needs operator or higher")
        #expect(events[3].detail == "the engine failed")
        #expect(events[4].detail == "another job runs")
        #expect(events[5].detail?.hasPrefix("token 'temp' expired at ") == true)
        #expect(events.allSatisfy { $0.address == "-" && $0.at == wallClock.now })
        #expect(try await trail.verify().isIntact)
    }

    @Test("a throttled call is recorded as rate-limited")
    func rateLimited() async throws {
        try await app().test(.router) { client in
            for status in [HTTPResponse.Status.unauthorized, .unauthorized, .tooManyRequests] {
                try await client.execute(uri: "/items/x", method: .post, headers: [.authorization: "Bearer \(AccessTokens.makeToken())"]) {
                    #expect($0.status == status)
                }
            }
        }
        let events = try await trail.list().reversed().map { $0 }
        #expect(events.map(\.outcome) == ["unauthorized", "unauthorized", "rate-limited"])
        #expect(events.map(\.detail) == ["the bearer token is not one of the catalog's", "the bearer token is not one of the catalog's", "too many failed authentications from -"])
    }

    @Test("40 calls at once make one chain of 40 events, none lost, none forked")
    func concurrent() async throws {
        let ops = try await tokens.create(name: "ops", role: .operator, lifetime: nil).token
        try await app().test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    group.addTask {
                        try await client.execute(uri: "/items/n\(i)", method: .post, headers: [.authorization: "Bearer \(ops)"]) {
                            #expect($0.status == .ok)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let events = try await trail.list().filter { $0.method != "CLI" }
        #expect(events.count == 40)
        #expect(Set(events.compactMap(\.target)) == Set((0..<40).map { "item n\($0)" }))
        let result = try await trail.verify()
        #expect(result.isIntact)
        #expect(result.headSequence == 41, "40 calls after the token's creation")
    }
}
