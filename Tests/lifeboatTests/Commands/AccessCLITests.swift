import AsyncHTTPClient
import Foundation
import LifeboatCore
import LifeboatTestSupport
import NIOCore
import Testing

/// Tokens, the throttle and the audit trail in a real `lifeboat serve` over TCP on loopback:
/// the token made by `token create` is accepted, the peer's real address is recorded, ten
/// failures slow the address down, and `audit list` and `audit verify` read what the daemon
/// wrote.
@Suite("serve: tokens and audit", .timeLimit(.minutes(5)))
struct AccessCLITests {
    let scratch = ScratchDirectory("access-cli")
    let cli: LifeboatCLI
    let config: String

    init() throws {
        cli = try LifeboatCLI(scratch: scratch)
        let app = try scratch.sub("app")
        try FileTree.write(app + "/settings.yaml", Array("pool: 8\n".utf8))
        config = scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(cli.repository) }
            sources:
              - { name: app, kind: files, paths: [\(app)] }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            server: { timeZone: \(QuietTimeZone.awayFrom(hour: 2)), shutdownGraceSeconds: 0 }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.initialize()
    }

    var environment: [String: String] { cli.environment(config: config) }

    func post(_ port: Int, _ path: String, token: String?) async throws -> (status: Int, retryAfter: String?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "Retry-After"))
    }

    @Test("a token from token create is accepted by the daemon, ten bad ones get its address a 429, and the audit trail has it all, intact")
    func daemon() async throws {
        let created = try cli.run(["token", "create", "--name", "ops", "--role", "operator"], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .newlines)
        let daemon = try await DaemonProcess.start(environment: environment)

        #expect(try await post(daemon.port, "/api/nothing", token: token).status == 404)
        #expect(try await daemon.get("/healthz").status == 200)
        for _ in 0..<10 {
            #expect(try await post(daemon.port, "/api/nothing", token: "lbt_" + String(repeating: "A", count: 43)).status == 404)
        }
        let throttled = try await post(daemon.port, "/api/nothing", token: token)
        #expect(throttled.status == 429)
        #expect(Int(throttled.retryAfter ?? "") ?? 0 >= 1)
        #expect(try await daemon.get("/healthz").status == 200, "requests without a token are not throttled")

        daemon.signal(SIGTERM)
        let end = await daemon.exit()
        #expect(end.status == 0, "\(end.log)")

        let list = try cli.run(["audit", "list", "--json"], environment: environment)
        #expect(list.status == 0, "\(list.stderr)")
        var events = try #require(try LifeboatCLI.json(list) as? [[String: Any]]).reversed().map { $0 }
        #expect(events.count == 13, "\(events)")
        #expect(events.map { $0["sequence"] as? Int } == Array(1...13))
        // The first is `token create` itself.
        #expect(events.first?["method"] as? String == "CLI")
        #expect(events.first?["route"] as? String == "token create")
        #expect(events.first?["target"] as? String == "token ops (operator)")
        events.removeFirst()
        #expect(Set(events.map { "\($0["address"] ?? "") \($0["method"] ?? "") \($0["route"] ?? "")" }) == ["127.0.0.1 POST /api/nothing"])
        #expect(events.first?["tokenName"] as? String == "ops")
        #expect(events.first?["role"] as? String == "operator")
        #expect(events.first?["outcome"] as? String == "rejected")
        #expect(events[1]["tokenName"] is NSNull)
        #expect(events[1]["detail"] as? String == "the bearer token is not one of the catalog's")
        #expect(events.last?["outcome"] as? String == "rate-limited")
        #expect(events.last?["status"] as? Int == 429)

        let verify = try cli.run(["audit", "verify"], environment: environment)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.hasPrefix("audit trail intact: 13 events; head 13 "))
        let tokens = try #require(try LifeboatCLI.json(try cli.run(["token", "list", "--json"], environment: environment)) as? [[String: Any]])
        #expect(tokens.first?["lastUsedAt"] is String, "the daemon recorded the token's use")
    }
}
