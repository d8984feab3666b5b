import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import LifeboatCore
import LifeboatOperations
import LifeboatServer
import LifeboatTestSupport
import Testing

/// The daemon's routes in process (HummingbirdTesting): health, readiness as the scheduler
/// reports it, metrics in Prometheus text from a real (empty, then written) SQLite catalog,
/// errors as JSON.
@Suite("Daemon")
struct DaemonTests {
    let scratch = ScratchDirectory("daemon")
    let daemon: Daemon

    init() throws {
        let config = try LifeboatConfiguration.decode(
            """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app, kind: files, paths: [\(scratch.path)/app], rpo: 2h }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            server: { timeZone: Europe/Berlin }
            """, file: scratch.path + "/lifeboat.yaml")
        let context = OperationsContext(
            configuration: config, secrets: SecretLookup(environment: [:]), backends: LocationBackends(environment: [:], sharing: { HTTPClient.shared }), programVersion: "test")
        daemon = Daemon(jobs: ScheduledJobs(context: context, passphrase: "unused"), listen: ListenAddress("127.0.0.1:0")!, logger: .init(label: "test"))
    }

    @Test("/healthz answers; /readyz is 503 until the scheduler waits for its first slot, then 200")
    func health() async throws {
        let app = Application(router: daemon.router())
        let metrics = daemon.metrics
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            metrics.observe(.waiting(.init(until: nil, running: 1, queued: 3, turn: 1, finishedRuns: 0)))
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = try PrometheusText(String(buffer: response.body))
                #expect(text.value("lifeboat_jobs_running") == 1)
                #expect(text.value("lifeboat_jobs_queued") == 3)
                // Never backed up: no lag to report, but the target is there and a problem is counted.
                #expect(text.value("lifeboat_rpo_lag_seconds", ["source": "app"]) == nil)
                #expect(text.value("lifeboat_rpo_target_seconds", ["source": "app"]) == 7200)
                #expect(text.value("lifeboat_problems") == 1)
                #expect(text.value("lifeboat_next_run_timestamp_seconds", ["source": "app", "type": "FULL"]) != nil)
            }
            metrics.observe(.stopping(running: []))
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
        }
    }

    @Test("an unknown route is a JSON error")
    func unknownRoute() async throws {
        let app = Application(router: daemon.router())
        try await app.test(.router) { client in
            try await client.execute(uri: "/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
                let json = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: [String: String]]
                #expect(json?["error"]?["code"] == "not_found")
            }
        }
    }
}
