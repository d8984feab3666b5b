import Foundation
import Hummingbird
import HummingbirdTesting
import LifeboatAPI
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatServer

/// The API's routes on a real repository and catalog: each does what its CLI verb does, and
/// each error has its status.
@Suite("API routes")
struct APIRoutesTests {
    let scratch = ScratchDirectory("api")

    /// A plan that restores the files source into a drill's sandbox and checks it.
    static let drillPlan = """
        name: app
        systemType: IMPORTANT
        steps:
          - {name: restore-app, type: RESTORE_BACKUP, source: app}
          - {name: verify-app, type: VERIFY_SYSTEM, source: app}
        """

    @Test("a backup performed through the API is a BackupJob: 202 with its RUNNING row, then SUCCEEDED in the catalog, restore-tested")
    func performBackup() async throws {
        let f = try await APIFixture(scratch)
        let answer = Mutex<(id: String, location: String)?>(nil)
        try await f.serve { client in
            try await client.execute(
                uri: "/api/backup/perform", method: .post, headers: API.json(.operator), body: API.body(#"{"source": "app", "type": "FULL", "restoreTest": true}"#)
            ) { (response: TestResponse) async throws in
                #expect(response.status == .accepted)
                let row = try API.object(response)
                #expect(row["source"] as? String == "app")
                #expect(row["status"] as? String == "RUNNING")
                #expect(row["requestedBy"] as? String == "test-operator (api)")
                #expect(row["scheduleType"] as? String == "MANUAL")
                let id = try #require(row["id"] as? String)
                #expect(response.headers[.location] == "/api/backups/\(id.lowercased())")
                answer.withLock { $0 = (id, response.headers[.location] ?? "") }
            }
        }
        let answered = answer.withLock { $0 }
        let (id, location) = try #require(answered)
        let backupID = try #require(UUID(uuidString: id))
        let stored = try await f.context.withCatalog { try await $0.backup(id: backupID) }
        let record = try #require(stored)
        #expect(record.status == .succeeded, "\(record.error ?? "")")
        #expect(record.type == "FULL")
        #expect(record.snapshotId != nil)
        #expect(record.restoreTest.result == "PASSED", "\(record.restoreTest.details ?? "")")
        try await f.serve { client in
            try await client.execute(uri: location, method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                let row = try API.object(response)
                #expect(row["status"] as? String == "SUCCEEDED")
                #expect((row["locations"] as? [[String: Any]])?.first?["status"] as? String == "VERIFIED")
                #expect((row["postCheck"] as? [String: Any])?["passed"] as? Bool == true)
            }
            try await client.execute(uri: "/api/backups?source=app&type=FULL&status=SUCCEEDED", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                #expect((try API.object(response)["backups"] as? [[String: Any]])?.count == 1)
            }
            for query in ["source=other", "type=INCREMENTAL", "status=FAILED", "since=2999-01-01T00:00:00Z", "until=2000-01-01T00:00:00Z"] {
                try await client.execute(uri: "/api/backups?\(query)", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                    #expect(response.status == .ok)
                    #expect((try API.object(response)["backups"] as? [[String: Any]])?.count == 0, "\(query)")
                }
            }
        }
    }

    @Test("the same Idempotency-Key twice starts one backup and answers twice alike; with another request it is 422")
    func idempotency() async throws {
        let f = try await APIFixture(scratch)
        try await f.serve { client in
            let headers = API.json(.operator, [IdempotencyMiddleware.keyField: "nightly-1"])
            let body = #"{"source": "app"}"#
            let first = try await client.execute(uri: "/api/backup/perform", method: .post, headers: headers, body: API.body(body))
            #expect(first.status == .accepted)
            let second = try await client.execute(uri: "/api/backup/perform", method: .post, headers: headers, body: API.body(body))
            #expect(second.status == .accepted)
            #expect(second.headers[IdempotencyMiddleware.replayedField] == "true")
            #expect(String(buffer: second.body) == String(buffer: first.body))
            #expect(second.headers[.location] == first.headers[.location])
            let other = try await client.execute(uri: "/api/backup/perform", method: .post, headers: headers, body: API.body(#"{"source": "app", "type": "FULL"}"#))
            #expect(other.status == .unprocessableContent)
            #expect(try API.error(other).message.contains("nightly-1"))
        }
        #expect(try await f.context.withCatalog { try await $0.backups() }.count == 1)
    }

    @Test("a backup of a source whose backup runs is 409, and nothing is recorded")
    func conflictingBackup() async throws {
        let f = try await APIFixture(scratch)
        // A live run of the source: this process holds its row's lease.
        let running = try await f.context.withCatalog { catalog in
            try await catalog.begin(
                Catalog.NewBackup(
                    type: "FULL", scheduleType: .scheduled, source: "app", sourceKind: .files, requestedBy: "scheduler", host: "testhost",
                    pid: Int(ProcessInfo.processInfo.processIdentifier)))
        }
        try await f.serve { client in
            try await client.execute(uri: "/api/backup/perform", method: .post, headers: API.json(.operator), body: API.body(#"{"source": "app"}"#)) { (response: TestResponse) async throws in
                #expect(response.status == .conflict)
                #expect(try API.error(response).code == "conflict")
            }
        }
        #expect(try await f.context.withCatalog { try await $0.backups() }.map(\.id) == [running])
    }

    @Test("malformed, oversized and impossible requests are refused before the engine", arguments: [
        ("not json", #"{"source": "#, HTTPResponse.Status.badRequest),
        ("a field too many", #"{"source": "app", "extra": 1}"#, .badRequest),
        ("an unknown type", #"{"source": "app", "type": "WEEKLY"}"#, .badRequest),
        ("no source", #"{"type": "FULL"}"#, .badRequest),
        ("an empty source", #"{"source": ""}"#, .badRequest),
        ("a source not configured", #"{"source": "nope"}"#, .unprocessableContent),
        ("a type the source cannot take", #"{"source": "app", "type": "TRANSACTION_LOG"}"#, .unprocessableContent),
        ("2 MiB", "{\"source\": \"" + String(repeating: "a", count: 2 << 20) + "\"}", .contentTooLarge),
    ])
    func refused(_ what: String, _ body: String, _ status: HTTPResponse.Status) async throws {
        let f = try await APIFixture(scratch)
        try await f.serve { client in
            try await client.execute(uri: "/api/backup/perform", method: .post, headers: API.json(.admin), body: API.body(body)) { (response: TestResponse) async throws in
                #expect(response.status == status, "\(what): \(String(buffer: response.body).prefix(300))")
                #expect(try API.error(response).message.isEmpty == false)
            }
        }
        #expect(try await f.context.withCatalog { try await $0.backups() }.isEmpty)
    }

    @Test("unknown and malformed record ids are 404 and 400")
    func unknownRecords() async throws {
        let f = try await APIFixture(scratch)
        try await f.serve { client in
            for uri in ["/api/backups/\(APIAccessTests.missing)", "/api/executions/\(APIAccessTests.missing)", "/api/plans/nope", "/api/plans/nope/revisions", "/api/report?plan=nope"] {
                try await client.execute(uri: uri, method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(try API.error(response).code == "not_found")
                }
            }
            for uri in ["/api/backups/12", "/api/executions/not-an-id"] {
                try await client.execute(uri: uri, method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in #expect(response.status == .badRequest, "\(uri)") }
            }
            for uri in ["/api/backups?limit=zero", "/api/backups?limit=0", "/api/backups?limit=10001", "/api/backups?since=yesterday", "/api/plans/nope?revision=0"] {
                try await client.execute(uri: uri, method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(try API.error(response).code == "bad_request")
                }
            }
        }
    }

    @Test("a plan created through the API validates and is stored as a revision (YAML or JSON); one that does not is 422 with why")
    func createPlan() async throws {
        let f = try await APIFixture(scratch)
        try await f.serve { client in
            var yaml = API.headers(.admin)
            yaml[.contentType] = "application/yaml"
            try await client.execute(uri: "/api/recovery/plan/create", method: .post, headers: yaml, body: API.body(Self.drillPlan)) { (response: TestResponse) async throws in
                #expect(response.status == .created, "\(String(buffer: response.body))")
                #expect(response.headers[.location] == "/api/plans/app?revision=1")
                let revision = try API.object(response)
                #expect(revision["revision"] as? Int == 1)
                #expect(revision["createdBy"] as? String == "test-admin (api)")
                #expect(revision["document"] as? String == Self.drillPlan)
            }
            try await client.execute(uri: "/api/recovery/plan/create", method: .post, headers: yaml, body: API.body(Self.drillPlan)) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                #expect(try API.object(response)["revision"] as? Int == 1)
            }
            let json = #"{"name": "app", "systemType": "CRITICAL", "steps": [{"name": "restore-app", "type": "RESTORE_BACKUP", "source": "app"}]}"#
            try await client.execute(uri: "/api/recovery/plan/create", method: .post, headers: API.json(.admin), body: API.body(json)) { (response: TestResponse) async throws in
                #expect(response.status == .created, "\(String(buffer: response.body))")
                #expect(try API.object(response)["revision"] as? Int == 2)
            }
            let invalid = #"{"name": "bad", "systemType": "CRITICAL", "steps": [{"name": "r", "type": "RESTORE_BACKUP", "source": "nowhere"}]}"#
            try await client.execute(uri: "/api/recovery/plan/create", method: .post, headers: API.json(.admin), body: API.body(invalid)) { (response: TestResponse) async throws in
                #expect(response.status == .unprocessableContent)
                let message = try API.error(response).message
                #expect(message.contains("the request body") && message.contains("nowhere"), "\(message)")
            }
            try await client.execute(uri: "/api/recovery/plan/create", method: .post, headers: yaml, body: API.body("name: [unclosed")) { (response: TestResponse) async throws in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/plans", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                let plans = try #require(try API.object(response)["plans"] as? [[String: Any]])
                #expect(plans.map { $0["name"] as? String } == ["app"])
                #expect(plans.first?["revision"] as? Int == 2)
            }
            try await client.execute(uri: "/api/plans/app?revision=1", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect(try API.object(response)["document"] as? String == Self.drillPlan)
            }
            try await client.execute(uri: "/api/plans/app?revision=3", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in #expect(response.status == .notFound) }
            try await client.execute(uri: "/api/plans/app/revisions", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect((try API.object(response)["revisions"] as? [[String: Any]])?.map { $0["revision"] as? Int } == [1, 2])
            }
        }
    }

    @Test("a drill started through the API runs to completion in the daemon, with its steps, logs and the report")
    func drill() async throws {
        let f = try await APIFixture(scratch)
        _ = try await BackupJob(context: f.context).run(.init(source: "app"), passphrase: TestRepository.passphrase)
        _ = try await RecoveryPlans(context: f.context).create(text: Self.drillPlan, origin: "test")
        let id = Mutex<String?>(nil)
        try await f.serve { client in
            try await client.execute(
                uri: "/api/recovery/execute", method: .post, headers: API.json(.operator),
                body: API.body(#"{"plan": "app", "mode": "TEST", "incidentTime": "2026-11-29T10:00:00Z"}"#)
            ) { (response: TestResponse) async throws in
                #expect(response.status == .accepted, "\(String(buffer: response.body))")
                let execution = try API.object(response)
                #expect(execution["mode"] as? String == "TEST")
                #expect(execution["user"] as? String == "test-operator (api)")
                #expect(["PENDING", "RUNNING"].contains(execution["status"] as? String))
                let value = try #require(execution["id"] as? String).lowercased()
                #expect(response.headers[.location] == "/api/executions/\(value)")
                id.withLock { $0 = value }
            }
        }
        let started = id.withLock { $0 }
        let execution = try #require(started)
        try await f.serve { client in
            try await client.execute(uri: "/api/executions/\(execution)", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                let record = try API.object(response)
                #expect(record["status"] as? String == "SUCCEEDED", "\(record)")
                let steps = try #require(record["steps"] as? [[String: Any]])
                #expect(steps.map { $0["status"] as? String } == ["SUCCEEDED", "SUCCEEDED"])
                #expect(steps.allSatisfy { !(($0["log"] as? String) ?? "").isEmpty })
            }
            try await client.execute(uri: "/api/executions?plan=app", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect((try API.object(response)["executions"] as? [[String: Any]])?.count == 1)
            }
            try await client.execute(uri: "/api/report", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                #expect((try API.object(response)["plans"] as? [[String: Any]])?.count == 1)
            }
            try await client.execute(uri: "/api/report?plan=app&format=markdown", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect(response.headers[.contentType]?.hasPrefix("text/markdown") == true)
                #expect(String(buffer: response.body).contains(execution.prefix(8)))
            }
            try await client.execute(uri: "/api/report?format=html", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                #expect(String(buffer: response.body).contains("<html"))
            }
            // Finished: neither cancelled nor resumed again.
            for action in ["cancel", "resume"] {
                try await client.execute(uri: "/api/executions/\(execution)/\(action)", method: .post, headers: API.headers(.operator)) { (response: TestResponse) async throws in
                    #expect(response.status == .conflict, "\(action)")
                }
            }
        }
    }

    @Test("an approval waits for the approve route; a cancelled drill ends CANCELLED; a PENDING one resumes")
    func approveCancelResume() async throws {
        let f = try await APIFixture(scratch)
        _ = try await BackupJob(context: f.context).run(.init(source: "app"), passphrase: TestRepository.passphrase)
        _ = try await RecoveryPlans(context: f.context).create(
            text: "name: gated\nsystemType: IMPORTANT\nsteps:\n  - {name: sign-off, type: MANUAL_APPROVAL}\n  - {name: settle, type: WAIT, duration: 0s}\n", origin: "test")
        let executor = RecoveryExecutor(context: f.context)
        let approved = try await executor.start(.init(plan: "gated", mode: .test))
        let cancelled = try await executor.start(.init(plan: "gated", mode: .test))
        let production = try await executor.start(.init(plan: "gated", mode: .execute))
        try await f.serve { client in
            for id in [approved, cancelled] {
                try await client.execute(uri: "/api/executions/\(id)/resume", method: .post, headers: API.headers(.operator)) { (response: TestResponse) async throws in
                    #expect(response.status == .accepted, "\(String(buffer: response.body))")
                }
            }
            try await client.execute(uri: "/api/executions/\(production)/resume", method: .post, headers: API.headers(.operator)) { (response: TestResponse) async throws in #expect(response.status == .forbidden) }
            try await client.execute(
                uri: "/api/executions/\(approved)/approve", method: .post, headers: API.json(.operator), body: API.body(#"{"step": "nope"}"#)
            ) { (response: TestResponse) async throws in #expect(response.status == .notFound) }
            try await client.execute(
                uri: "/api/executions/\(approved)/approve", method: .post, headers: API.json(.operator), body: API.body(#"{"step": "sign-off", "comment": "go"}"#)
            ) { (response: TestResponse) async throws in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let step = (try API.object(response)["steps"] as? [[String: Any]])?.first
                #expect(step?["approvedBy"] as? String == "test-operator (api)")
            }
            try await client.execute(uri: "/api/executions/\(cancelled)/cancel", method: .post, headers: API.headers(.operator)) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                #expect(try API.object(response)["cancelRequested"] as? Bool == true)
            }
        }
        #expect(try await executor.status(approved).status == .succeeded)
        #expect(try await executor.status(cancelled).status == .cancelled)
        #expect(try await executor.status(production).status == .pending)
    }

    @Test("the daemon's shutdown ends the API's work: past the grace period a running execution is cancelled, INTERRUPTED and resumable", .timeLimit(.minutes(10)))
    func shutdownEndsWork() async throws {
        let f = try await APIFixture(scratch)
        _ = try await RecoveryPlans(context: f.context).create(text: "name: slow\nsystemType: IMPORTANT\nsteps: [{name: settle, type: WAIT, duration: 1h}]\n", origin: "test")
        let id = try await RecoveryExecutor(context: f.context).start(.init(plan: "slow", mode: .test))
        try await f.serve(grace: .zero) { client in
            try await client.execute(uri: "/api/executions/\(id)/resume", method: .post, headers: API.headers(.operator)) { (response: TestResponse) async throws in
                #expect(response.status == .accepted)
            }
        }
        let record = try await RecoveryExecutor(context: f.context).status(id)
        #expect(record.status == .interrupted, "\(record.status)")
        #expect(record.error?.contains("recover resume") == true, "\(record.error ?? "")")
    }

    @Test("health, sources, locations and the document answer from the catalog and the configuration")
    func state() async throws {
        let f = try await APIFixture(scratch)
        _ = try await BackupJob(context: f.context).run(.init(source: "app"), passphrase: TestRepository.passphrase)
        try await f.serve { client in
            try await client.execute(uri: "/api/health", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                #expect(try API.object(response)["version"] as? String == "test")
            }
            try await client.execute(uri: "/api/sources", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                let sources = try #require(try API.object(response)["sources"] as? [[String: Any]])
                #expect(sources.map { $0["source"] as? String } == ["app"])
                #expect(sources.first?["sourceKind"] as? String == "files")
            }
            try await client.execute(uri: "/api/locations", method: .get, headers: API.headers(.auditor)) { (response: TestResponse) async throws in
                let report = try API.object(response)
                let locations = try #require(report["locations"] as? [[String: Any]])
                #expect(locations.first?["name"] as? String == "primary")
                #expect(locations.first?["snapshots"] as? Int == 1)
                // One copy on one medium: the rule is not met.
                #expect((report["rule"] as? [String: Any])?["met"] as? Bool == false)
            }
            try await client.execute(uri: "/api/openapi.yaml", method: .get) { (response: TestResponse) async throws in
                #expect(response.headers[.contentType] == "application/yaml")
                #expect(String(buffer: response.body) == OpenAPIDocument.yaml + "\n")
            }
        }
    }
}
