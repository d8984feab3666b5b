import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import LifeboatTestSupport

/// Production beside a repository: a SQLite database and a configuration folder, both
/// backed up by `BackupJob`, a webhook receiver on loopback, and a lifeboat.yaml naming
/// them all, for plans to run against.
struct RecoveryFixture {
    let scratch: ScratchDirectory
    let production: String
    let database: String
    let configFolder: String
    /// Where drills make their sandboxes and commands their output files: empty between runs.
    let drills: String
    let webhook: WebhookServer
    let context: OperationsContext

    init(_ scratch: ScratchDirectory) async throws {
        self.scratch = scratch
        production = try scratch.sub("production")
        drills = try scratch.sub("drills")
        database = production + "/app.db"
        configFolder = try scratch.sub("production/config")
        try FileTree.write(configFolder + "/app.yaml", Array("listen: 127.0.0.1:8080\n".utf8))
        try FileTree.write(configFolder + "/pool.yaml", Array("size: 8\n".utf8))
        let made = try Shell.run("/usr/bin/python3", [
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)'); c.executemany('INSERT INTO orders (item) VALUES (?)', [('item %d' % i,) for i in range(300)]); c.commit()",
            database,
        ])
        precondition(made.status == 0, made.stderr)
        webhook = try WebhookServer(log: scratch.path + "/webhook.log")
        _ = try await TestRepository.create(at: scratch.path + "/primary")
        let file = scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app-db, kind: sqlite, path: \(database) }
              - { name: app-config, kind: files, paths: [\(configFolder)] }
            webhooks: { ops: "\(webhook.url)/hook" }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        context = OperationsContext(
            configuration: try LifeboatConfiguration.load(file), secrets: SecretLookup(environment: ProcessInfo.processInfo.environment.merging(["LIFEBOAT_PASSWORD": "not for commands"]) { _, new in new }),
            backends: LocationBackends(environment: [:], sharing: { S3TestServer.client }), requester: Requester(host: "testhost", username: "tester"), programVersion: "test")
        for source in ["app-db", "app-config"] {
            _ = try await BackupJob(context: context).run(.init(source: source), passphrase: TestRepository.passphrase)
        }
    }

    /// An executor that looks at the catalog often and retries soon, with drills in `drills`.
    var executor: RecoveryExecutor {
        var e = RecoveryExecutor(context: context)
        e.pollInterval = .milliseconds(20)
        e.retryBackoff = .milliseconds(10)
        e.scratchDirectory = drills
        return e
    }

    /// Stores a plan's text as the plan's next revision.
    func store(_ text: String) async throws {
        let file = scratch.path + "/plan-\(UUID().uuidString.prefix(8)).yaml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try await RecoveryPlans(context: context).create(file: file)
    }

    /// Starts and runs an execution to its end.
    func run(_ plan: String, _ mode: RecoveryMode, incidentTime: Date? = nil, events: @escaping @Sendable (RecoveryEvent) -> Void = { _ in })
        async throws -> RecoveryExecutionRecord
    {
        let executor = self.executor
        let id = try await executor.start(.init(plan: plan, mode: mode, incidentTime: incidentTime))
        return try await executor.run(id, passphrase: { TestRepository.passphrase }, events: events)
    }

    /// Every file under production with its bytes.
    var productionState: [String: Data] { TestRepository.allObjects(at: production) }
}
