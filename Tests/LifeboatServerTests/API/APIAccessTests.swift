import Foundation
import Hummingbird
import HummingbirdTesting
import LifeboatAPI
import LifeboatOperations
import LifeboatTestSupport
import Testing

@testable import LifeboatServer

/// The role matrix (issue 14): every operation of the document times no token and every
/// role. A caller below the operation's role never reaches it (401 without a token, 403
/// with too low a role); one at or above it gets past the check (the request is made so that
/// it then fails harmlessly: an unknown source, plan or record).
@Suite("API access")
struct APIAccessTests {
    /// One request per operation, made to do nothing when allowed.
    struct Call: Sendable, CustomTestStringConvertible {
        let operation: String
        /// What the issue says it needs (nil: open), stated here apart from the server's table.
        let role: Role?
        let method: HTTPRequest.Method
        let uri: String
        let body: String?

        var testDescription: String { operation }
    }

    static let missing = "0f8fad5b-d9cb-469f-a165-70867728950e"

    static let calls: [Call] = [
        Call(operation: "getOpenAPIDocument", role: nil, method: .get, uri: "/api/openapi.yaml", body: nil),
        Call(operation: "getHealth", role: nil, method: .get, uri: "/api/health", body: nil),
        Call(operation: "performBackup", role: .operator, method: .post, uri: "/api/backup/perform", body: #"{"source": "no-such-source"}"#),
        Call(operation: "listBackups", role: .auditor, method: .get, uri: "/api/backups", body: nil),
        Call(operation: "getBackup", role: .auditor, method: .get, uri: "/api/backups/\(missing)", body: nil),
        Call(operation: "listSources", role: .auditor, method: .get, uri: "/api/sources", body: nil),
        Call(operation: "listLocations", role: .auditor, method: .get, uri: "/api/locations", body: nil),
        Call(operation: "createPlan", role: .admin, method: .post, uri: "/api/recovery/plan/create", body: #"{"name": "x"}"#),
        Call(operation: "listPlans", role: .auditor, method: .get, uri: "/api/plans", body: nil),
        Call(operation: "getPlan", role: .auditor, method: .get, uri: "/api/plans/no-such-plan", body: nil),
        Call(operation: "listPlanRevisions", role: .auditor, method: .get, uri: "/api/plans/no-such-plan/revisions", body: nil),
        Call(operation: "executeRecovery", role: .operator, method: .post, uri: "/api/recovery/execute", body: #"{"plan": "no-such-plan", "mode": "TEST"}"#),
        Call(operation: "listExecutions", role: .auditor, method: .get, uri: "/api/executions", body: nil),
        Call(operation: "getExecution", role: .auditor, method: .get, uri: "/api/executions/\(missing)", body: nil),
        Call(operation: "approveExecutionStep", role: .operator, method: .post, uri: "/api/executions/\(missing)/approve", body: #"{"step": "sign-off"}"#),
        Call(operation: "cancelExecution", role: .operator, method: .post, uri: "/api/executions/\(missing)/cancel", body: nil),
        Call(operation: "resumeExecution", role: .operator, method: .post, uri: "/api/executions/\(missing)/resume", body: nil),
        Call(operation: "getReport", role: .auditor, method: .get, uri: "/api/report", body: nil),
        Call(operation: "listAuditEvents", role: .auditor, method: .get, uri: "/api/audit", body: nil),
        Call(operation: "verifyAuditTrail", role: .auditor, method: .get, uri: "/api/audit/verify", body: nil),
        Call(operation: "listTokens", role: .admin, method: .get, uri: "/api/tokens", body: nil),
        Call(operation: "createToken", role: .admin, method: .post, uri: "/api/tokens", body: #"{"name": "not a name!", "role": "auditor"}"#),
        Call(operation: "revokeToken", role: .admin, method: .post, uri: "/api/tokens/no-such-token/revoke", body: nil),
    ]

    @Test("the table names every operation of docs/openapi.yaml, and the matrix calls each")
    func tableCoversDocument() throws {
        let operations = Set(OpenAPIDocument.yaml.split(separator: "\n").compactMap { line -> String? in
            let text = line.trimmingCharacters(in: .whitespaces)
            return text.hasPrefix("operationId:") ? text.dropFirst("operationId:".count).trimmingCharacters(in: .whitespaces) : nil
        })
        #expect(operations.count == 23)
        #expect(Set(APIAccess.requirements.keys) == operations)
        #expect(Set(Self.calls.map(\.operation)) == operations)
        for call in Self.calls {
            #expect(APIAccess.requirement(for: call.operation) == (call.role.map { .role($0) } ?? .open), "\(call.operation)")
        }
    }

    @Test("each role gets past exactly the operations its rank allows; no token, a revoked or an expired one is 401", arguments: calls)
    func matrix(_ call: Call) async throws {
        let scratch = ScratchDirectory("api-access")
        let f = try await APIFixture(scratch)
        let requirement: APIAccess.Requirement = call.role.map { .role($0) } ?? .open
        try await f.serve { client in
            // No token, a revoked and an expired one (each an admin's), then each role's.
            for token in [nil, "revoked", "expired"] + Role.allCases.map(\.rawValue) {
                let role = token.flatMap(Role.init(rawValue:))
                let response = try await client.execute(
                    uri: call.uri, method: call.method, headers: call.body == nil ? API.headers(token: token) : API.json(token: token),
                    body: call.body.map(API.body))
                let who = token ?? "no token"
                switch requirement {
                case .open:
                    #expect(response.status == .ok, "\(call.operation) with \(who)")
                case .role(let needed):
                    if let role, role.allows(needed) {
                        #expect(![.unauthorized, .forbidden].contains(response.status), "\(call.operation) with \(who): \(response.status)")
                    } else if role != nil {
                        #expect(response.status == .forbidden, "\(call.operation) with \(who)")
                        #expect(try API.error(response).code == "forbidden")
                    } else {
                        #expect(response.status == .unauthorized, "\(call.operation) with \(who)")
                        #expect(response.headers[.wwwAuthenticate] == "Bearer")
                        #expect(try API.error(response).code == "unauthorized")
                    }
                }
            }
        }
    }

    @Test("a drill is an operator's, a recovery onto production an admin's")
    func executeModes() async throws {
        let scratch = ScratchDirectory("api-access")
        let f = try await APIFixture(scratch)
        try await f.serve { client in
            let execute = API.body(#"{"plan": "no-such-plan", "mode": "EXECUTE"}"#)
            try await client.execute(uri: "/api/recovery/execute", method: .post, headers: API.json(.operator), body: execute) { (response: TestResponse) async throws in
                #expect(response.status == .forbidden)
                #expect(try API.error(response).message.contains("needs admin"))
            }
            try await client.execute(uri: "/api/recovery/execute", method: .post, headers: API.json(.admin), body: execute) { (response: TestResponse) async throws in #expect(response.status == .notFound) }
            let drill = API.body(#"{"plan": "no-such-plan", "mode": "TEST"}"#)
            try await client.execute(uri: "/api/recovery/execute", method: .post, headers: API.json(.operator), body: drill) { (response: TestResponse) async throws in #expect(response.status == .notFound) }
        }
    }
}
