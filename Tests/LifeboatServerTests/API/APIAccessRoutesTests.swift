import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LifeboatCatalog
import LifeboatOperations
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatServer

/// The audit trail and the tokens through the API: what `lifeboat audit` and `lifeboat token`
/// do, for an auditor and an admin.
@Suite("API access routes")
struct APIAccessRoutesTests {
    let scratch = ScratchDirectory("api-access-routes")

    @Test("an admin makes a token (shown once, never replayed by Idempotency-Key), lists it without its text, and revokes it; the new token works until then")
    func tokens() async throws {
        let f = try await APIFixture(scratch)
        let made = Mutex<String?>(nil)
        try await f.serve { client in
            let body = API.body(#"{"name": "ci-reader", "role": "auditor", "expires": "7d"}"#)
            try await client.execute(
                uri: "/api/tokens", method: .post, headers: API.json(.admin, [HTTPField.Name("Idempotency-Key")!: "mint-1"]), body: body
            ) { (response: TestResponse) async throws in
                #expect(response.status == .created, "\(String(buffer: response.body))")
                let answer = try API.object(response)
                let token = try #require(answer["token"] as? String)
                #expect(token.hasPrefix("lbt_"))
                #expect(answer["createdBy"] as? String == "test-admin (api)")
                #expect(answer["expiresAt"] is String)
                made.withLock { $0 = token }
            }
            // The same key again is not a replay of the secret: the name is taken.
            try await client.execute(
                uri: "/api/tokens", method: .post, headers: API.json(.admin, [HTTPField.Name("Idempotency-Key")!: "mint-1"]), body: body
            ) { (response: TestResponse) async throws in
                #expect(response.status == .conflict)
                #expect(!String(buffer: response.body).contains("lbt_"))
            }
            let token = try #require(made.withLock { $0 })
            try await client.execute(uri: "/api/sources", method: .get, headers: [.authorization: "Bearer \(token)"]) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/tokens", method: .get, headers: API.headers(.admin)) { (response: TestResponse) async throws in
                #expect(!String(buffer: response.body).contains(token))
                let tokens = try #require(try API.object(response)["tokens"] as? [[String: Any]])
                let row = try #require(tokens.first { $0["name"] as? String == "ci-reader" })
                #expect(row["state"] as? String == "active")
                #expect(row["role"] as? String == "auditor")
            }
            for bad in [#"{"name": "x", "role": "auditor", "expires": "0d"}"#, #"{"name": "has space", "role": "auditor"}"#] {
                try await client.execute(uri: "/api/tokens", method: .post, headers: API.json(.admin), body: API.body(bad)) { (response: TestResponse) async throws in
                    #expect(response.status == .badRequest, "\(bad)")
                }
            }
            try await client.execute(uri: "/api/tokens/ci-reader/revoke", method: .post, headers: API.headers(.admin)) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                #expect(try API.object(response)["state"] as? String == "revoked")
            }
            try await client.execute(uri: "/api/sources", method: .get, headers: [.authorization: "Bearer \(token)"]) { (response: TestResponse) async throws in
                #expect(response.status == .unauthorized)
                // Refused, not missing; but not which refusal (the audit trail has that).
                let message = try API.error(response).message
                #expect(message.contains("was refused") && !message.contains("ci-reader"), "\(message)")
            }
            try await client.execute(uri: "/api/sources", method: .get) { (response: TestResponse) async throws in
                #expect(try API.error(response).message.contains("a bearer token is required"))
            }
            try await client.execute(uri: "/api/tokens/nobody/revoke", method: .post, headers: API.headers(.admin)) { (response: TestResponse) async throws in
                #expect(response.status == .notFound)
            }
        }
        // Each call is one event of the API's, not a second one as from the command line.
        let trail = try await AuditTrail(context: f.context).list()
        #expect(trail.filter { $0.route == "/api/tokens" && $0.status == 201 }.count == 1)
        #expect(trail.filter { $0.method == "CLI" && ($0.target ?? "").contains("ci-reader") }.isEmpty)
        // The key was never reserved: no answer holding the token's text was stored.
        let reservation = try await f.context.withCatalog {
            try await $0.reserveIdempotencyKey(caller: "test-admin", key: "mint-1", operation: "createToken", requestHash: "-")
        }
        guard case .reserved = reservation else {
            Issue.record("the key of a token's creation was stored: \(reservation)")
            return
        }
    }

    @Test("an auditor reads the trail (filtered, newest first) and its verdict; a changed event breaks it")
    func audit() async throws {
        let f = try await APIFixture(scratch)
        try await f.serve { client in
            // Refused calls are events: one 403.
            try await client.execute(uri: "/api/tokens", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/audit?outcome=forbidden", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                let events = try #require(try API.object(response)["events"] as? [[String: Any]])
                #expect(events.count == 1)
                #expect(events.first?["tokenName"] as? String == "test-auditor")
                #expect(events.first?["route"] as? String == "/api/tokens")
            }
            try await client.execute(uri: "/api/audit?limit=0", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/audit/verify", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                let verdict = try API.object(response)
                #expect(verdict["intact"] as? Bool == true)
                #expect((verdict["eventsChecked"] as? Int ?? 0) >= 3, "the fixture's token events and the 403")
            }
        }
    }
}
