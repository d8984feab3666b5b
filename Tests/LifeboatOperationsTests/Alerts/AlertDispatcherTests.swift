import AsyncHTTPClient
import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

/// The dispatcher against a real SQLite catalog and a webhook receiver on loopback, with
/// time given as arguments: a receiver that is away keeps the notification, a restarted
/// dispatcher finds it, and it is sent once the backoff has passed.
@Suite("AlertDispatcher")
struct AlertDispatcherTests {
    @Test("a notification the webhook refuses is kept, survives a restart, and is sent again after its backoff", .timeLimit(.minutes(10)))
    func retriedAfterRestart() async throws {
        let scratch = ScratchDirectory("alerts")
        let receiver = try WebhookReceiver(directory: scratch.path + "/hooks")
        let config = try LifeboatConfiguration.decode(
            """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app, kind: files, paths: [\(scratch.path)/app] }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            alerts:
              webhooks:
                - { name: ops, kind: json, url: "\(receiver.url("json"))" }
            """, file: scratch.path + "/lifeboat.yaml")
        let context = OperationsContext(
            configuration: config, secrets: SecretLookup(environment: [:]), backends: LocationBackends(environment: [:], sharing: { HTTPClient.shared }),
            programVersion: "test")
        let now = Date()
        try Data().write(to: URL(fileURLWithPath: receiver.directory + "/down"))

        let first = try AlertDispatcher(context: context)
        let opened = try await first.evaluate(now: now)
        #expect(opened.opened == 1)
        #expect(try await first.deliver(now: now) == 0)
        #expect(try await first.evaluate(now: now).opened == 0, "one alert per condition")
        #expect(try await context.withCatalog { try await $0.pendingAlertNoticeCount() } == 1)

        // A new dispatcher (a restarted daemon) with the receiver back: not before the backoff.
        try FileManager.default.removeItem(atPath: receiver.directory + "/down")
        let second = try AlertDispatcher(context: context)
        #expect(try await second.deliver(now: now.addingTimeInterval(10)) == 0)
        #expect(try await second.deliver(now: now.addingTimeInterval(31)) == 1)
        #expect(try await context.withCatalog { try await $0.pendingAlertNoticeCount() } == 0)
        let delivered = receiver.deliveries
        #expect(delivered.count == 1)
        #expect(delivered.first?.body["condition"] as? String == "no-restorable-point:app")
        #expect(delivered.first?.body["status"] as? String == "firing")
    }
}
