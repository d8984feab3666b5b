import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import LifeboatTestSupport
import Testing

@Suite("lifeboat.yaml: roles, kinds and schedule types are enums, secrets are looked up")
struct LifeboatConfigurationTests {
    let scratch = ScratchDirectory("config")

    func load(_ text: String) throws -> LifeboatConfiguration {
        let path = scratch.path + "/lifeboat.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try LifeboatConfiguration.load(path)
    }

    @Test("schedules decode to BackupType and ScheduleType")
    func typedSchedules() throws {
        let config = try load(
            """
            sources:
              - { name: cfg, kind: files, paths: [/etc/app] }
            schedules:
              - { source: cfg, type: CONFIGURATION, cron: "*/5 * * * *", scheduleType: ON_CHANGE }
            """)
        #expect(config.schedules.first?.type == .configuration)
        #expect(config.schedules.first?.scheduleType == .onChange)
        #expect(config.sources.first?.kind == .files)
    }

    @Test("an unknown schedule type is refused with the file and the values there are")
    func unknownScheduleType() throws {
        #expect {
            try load("sources:\n  - { name: a, kind: sqlite, path: /a.db }\nschedules:\n  - { source: a, type: WEEKLY, cron: '@daily' }\n")
        } throws: { error in
            "\(error)".contains("type 'WEEKLY' is not one of FULL, INCREMENTAL, TRANSACTION_LOG, CONFIGURATION") && "\(error)".contains("lifeboat.yaml")
        }
    }

    @Test("a catalog password comes from the environment handed in, and a missing one is named")
    func catalogSecret() throws {
        let config = try load("catalog: { postgres: 'postgresql://lifeboat@127.0.0.1/catalog', passwordEnv: CATALOG_PW }\n")
        guard case .postgres(_, let password) = try config.catalogLocation(secrets: SecretLookup(environment: ["CATALOG_PW": "pw"])) else {
            Issue.record("expected a PostgreSQL catalog")
            return
        }
        #expect(password == "pw")
        #expect(throws: ConfigurationError.self) { try config.catalogLocation(secrets: SecretLookup(environment: [:])) }
    }
}
