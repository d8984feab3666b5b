import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import LifeboatCore
import LifeboatOperations
import LifeboatTestSupport
import Logging
import ServiceLifecycle
import Testing

@testable import LifeboatServer

/// A daemon on a real PRIMARY repository, files source and SQLite catalog in a scratch
/// directory, with its API routes in process and its API work run as the daemon runs it.
struct APIFixture {
    let scratch: ScratchDirectory
    let app: String
    let daemon: Daemon
    /// What the operations logged (an execution the API runs says when it waits and ends).
    let log = LogRecorder()

    init(_ scratch: ScratchDirectory) async throws {
        self.scratch = scratch
        app = try scratch.sub("app")
        var rng = SeededBytes(seed: 14)
        try FileTree.write(app + "/settings.yaml", Array("pool: 8\n".utf8))
        try FileTree.write(app + "/data.bin", rng.bytes(100_000))
        _ = try await TestRepository.create(at: scratch.path + "/primary")
        let file = scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app, kind: files, paths: [\(app)] }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let context = OperationsContext(
            configuration: try LifeboatConfiguration.load(file), secrets: SecretLookup(environment: [:]),
            backends: LocationBackends(environment: [:], sharing: { HTTPClient.shared }), requester: Requester(host: "testhost", username: "tester"),
            programVersion: "test", logger: log.logger(label: "api-test"))
        daemon = Daemon(jobs: ScheduledJobs(context: context, passphrase: TestRepository.passphrase), listen: ListenAddress("127.0.0.1:0")!, logger: Logger(label: "api-test"))
        // Real tokens in the catalog, one per role ("test-<role>"), and two that are refused.
        let access = AccessTokens(context: context)
        var tokens: [String: String] = [:]
        for role in Role.allCases { tokens["\(role)"] = try await access.create(name: "test-\(role)", role: role, lifetime: nil).token }
        tokens["revoked"] = try await access.create(name: "test-revoked", role: .admin, lifetime: nil).token
        _ = try await access.revoke(name: "test-revoked")
        var past = access
        past.now = { Date().addingTimeInterval(-7200) }
        tokens["expired"] = try await past.create(name: "test-expired", role: .admin, lifetime: .seconds(3600)).token
        self.tokens = tokens
    }

    /// Each role's token by the role's name, and "expired" and "revoked" (admin tokens once).
    let tokens: [String: String]

    var context: OperationsContext { daemon.jobs.context }

    /// The daemon's router: the token middleware of `lifeboat serve`, then the API.
    func router() -> Router<LifeboatRequestContext> { daemon.router() }

    /// Runs `body` against the routes while the daemon's API work runs; then shuts the work
    /// down gracefully, which waits for every backup and execution the API started: once
    /// this returns, their records are final.
    func serve(grace: Duration = .seconds(600), _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let service = APIWorkService(work: daemon.apiWork, grace: grace, clock: ContinuousClock())
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: Logger(label: "api-test")))
        let application = Application(router: router())
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await API.$tokens.withValue(tokens) { try await application.test(.router, body) }
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// Requests and answers as the tests write them.
enum API {
    /// The fixture's tokens (``APIFixture/tokens``) while it serves.
    @TaskLocal static var tokens: [String: String] = [:]

    static func headers(_ role: Role?, _ more: HTTPFields = [:]) -> HTTPFields {
        headers(token: role.map { "\($0)" }, more)
    }

    /// With the fixture's token named `token` ("auditor", "expired", …), or none.
    static func headers(token: String?, _ more: HTTPFields = [:]) -> HTTPFields {
        var fields = more
        if let token { fields[.authorization] = "Bearer \(tokens[token] ?? "unknown")" }
        return fields
    }

    static func json(_ role: Role?, _ more: HTTPFields = [:]) -> HTTPFields {
        json(token: role.map { "\($0)" }, more)
    }

    static func json(token: String?, _ more: HTTPFields = [:]) -> HTTPFields {
        var fields = headers(token: token, more)
        fields[.contentType] = "application/json"
        return fields
    }

    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any], "\(String(buffer: response.body))")
    }

    /// The error code and message of an error answer.
    static func error(_ response: TestResponse) throws -> (code: String, message: String) {
        let error = try #require(try object(response)["error"] as? [String: String], "\(String(buffer: response.body))")
        return (error["code"] ?? "", error["message"] ?? "")
    }
}
