import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

@Suite("RecoveryPlan: parsing and validation against lifeboat.yaml, with lines")
struct RecoveryPlanTests {
    static let configuration = """
        locations:
          - { name: primary, role: PRIMARY, path: /srv/backup/repo }
          - { name: usb, role: TERTIARY, path: /mnt/usb1/lifeboat, medium: usb-1 }
        sources:
          - { name: app-db, kind: sqlite, path: /srv/app/app.db }
          - { name: app-config, kind: files, paths: [/etc/app] }
        webhooks: { ops: "http://127.0.0.1:9/hook" }
        """

    static let valid = """
        name: orders
        systemType: CRITICAL
        rpo: 1h
        description: The order database.
        steps:
          - name: restore-db
            type: RESTORE_BACKUP
            source: app-db
            snapshot: latest
            location: primary
          - name: verify-db
            type: VERIFY_SYSTEM
            source: app-db
            query: "SELECT count(*) > 0 FROM orders"
          - {name: restart, type: RUN_COMMAND, command: ["systemctl", "restart", "app"], timeout: 5m, retries: 2, runInTest: false}
          - {name: health, type: HTTP_CHECK, url: "http://127.0.0.1:8080/health", expectStatus: 200, after: [restart]}
          - {name: tell, type: NOTIFY, webhook: ops, message: "orders restored"}
          - {name: sign-off, type: MANUAL_APPROVAL}
          - {name: settle, type: WAIT, duration: 30s}
        team: [{name: on-call DBA, role: incident lead, email: oncall@example.org, phone: "+1 555 0100"}]
        vendors: [{name: Cloud Storage Inc, service: SECONDARY bucket}]
        regulatory:
          - {name: "GDPR Art. 33", authority: supervisory authority, deadline: 72h, when: personal data affected}
        testing: {every: 90d}
        """

    func config() throws -> LifeboatConfiguration {
        try LifeboatConfiguration.decode(Self.configuration, file: "/etc/lifeboat/lifeboat.yaml")
    }

    func check(_ text: String) throws {
        try RecoveryPlan.parse(text, file: "plan.yaml").validate(against: config())
    }

    @Test("the issue's plan is valid: default RTO from the system type, durations in seconds, steps as given")
    func validPlan() throws {
        let parsed = try RecoveryPlan.parse(Self.valid, file: "plan.yaml")
        try parsed.validate(against: config())
        let plan = parsed.plan
        #expect(plan.name == "orders" && plan.steps.count == 7)
        #expect(plan.rtoTarget.seconds == 4 * 3600 && plan.rto == nil)
        #expect(plan.rpo?.seconds == 3600)
        #expect(plan.testing?.every.seconds == Int64(90 * 86_400))
        #expect(plan.regulatory?.first?.deadline.seconds == Int64(72 * 3600))
        let restart = plan.steps[2]
        #expect(restart.command == ["systemctl", "restart", "app"] && restart.retryCount == 2 && restart.attemptTimeout == .seconds(300) && !restart.runsInTest)
        #expect(plan.steps[0].isCritical && plan.steps[0].runsInTest)
        #expect(plan.steps[6].duration?.seconds == 30)
        #expect(RecoveryGraph(plan.steps).predecessors["health"] == ["restart"])
        #expect(RecoveryGraph(plan.steps).predecessors["tell"] == ["health"])
    }

    @Test("system types give 4h, 24h, 72h; rto overrides; JSON is accepted")
    func targets() throws {
        for (type, hours) in [("CRITICAL", 4), ("IMPORTANT", 24), ("NON_CRITICAL", 72)] {
            let plan = try RecoveryPlan.parse("{\"name\": \"p\", \"systemType\": \"\(type)\", \"steps\": [{\"name\": \"w\", \"type\": \"WAIT\", \"duration\": \"5m\"}]}", file: "p.json").plan
            #expect(plan.rtoTarget.seconds == Int64(hours * 3600))
            #expect(plan.steps[0].duration?.seconds == 300)
        }
        let overridden = try RecoveryPlan.parse("name: p\nsystemType: IMPORTANT\nrto: 2h\nsteps: [{name: w, type: WAIT, duration: 90}]\n", file: "p.yaml").plan
        #expect(overridden.rtoTarget.seconds == 7200 && overridden.steps[0].duration?.seconds == 90)
    }

    @Test(
        "a bad plan is refused with its file, line and what was expected",
        arguments: [
            ("unknown source", "source: app-db\n", "source: nope\n", "plan.yaml:8:", "names source 'nope', which /etc/lifeboat/lifeboat.yaml does not have (sources are app-db, app-config)"),
            ("unknown location", "location: primary", "location: tape", "plan.yaml:10:", "names location 'tape'"),
            ("unknown webhook", "webhook: ops", "webhook: pager", "plan.yaml:17:", "names webhook 'pager'"),
            ("missing field", "command: [\"systemctl\", \"restart\", \"app\"], ", "", "plan.yaml:15:", "RUN_COMMAND step 'restart' needs command"),
            ("duplicate name", "name: verify-db", "name: restore-db", "plan.yaml:11:", "step name 'restore-db' is used twice (first at plan.yaml:6)"),
            ("after unknown", "after: [restart]", "after: [reboot]", "plan.yaml:16:", "runs after 'reboot', which is not a step of this plan"),
            ("bad type", "type: WAIT", "type: SLEEP", "plan.yaml:19:", "step type 'SLEEP' is not one of RESTORE_BACKUP"),
            ("bad duration", "duration: 30s", "duration: soon", "plan.yaml:19:", "'soon' is not a duration like 30s, 5m, 2h or 90d"),
            ("typo in a field", "snapshot: latest", "snapshott: latest", "plan.yaml:9:", "'snapshott' is not a field of a step"),
            ("field of another type", "query: \"SELECT count(*) > 0 FROM orders\"", "command: [ls]", "plan.yaml:14:", "command does not apply to a VERIFY_SYSTEM step"),
            ("missing name", "name: orders\n", "", "plan.yaml", "the plan lacks 'name'"),
        ])
    func refused(_ label: String, _ original: String, _ replacement: String, _ place: String, _ message: String) throws {
        let text = Self.valid.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.valid, "\(label): the replacement changed nothing")
        do {
            try check(text)
            Issue.record("\(label): accepted")
        } catch let error as RecoveryPlanError {
            #expect("\(error)".hasPrefix(place), "\(label): \(error)")
            #expect("\(error)".contains(message), "\(label): \(error)")
        }
    }

    @Test(
        "a PostgreSQL restore takes one well-formed recovery target; other sources take none",
        arguments: [
            ("toTime: \"2026-11-27T13:45:00.250Z\"", nil),
            ("toLsn: 0/3000060", nil),
            ("toName: before-upgrade", nil),
            ("", nil),
            ("toTime: yesterday", "plan.yaml:4: toTime 'yesterday' is not a time like 2026-11-27T13:45:00Z"),
            ("toLsn: 3000060", "plan.yaml:4: toLsn '3000060' is not a WAL position like 0/3000060"),
            ("toLsn: 0/3000060, toName: x", "plan.yaml:4: step 'restore-pg' gives toLsn and toName: give at most one recovery target"),
        ] as [(String, String?)])
    func pointInTime(_ fields: String, _ refusal: String?) throws {
        let config = try LifeboatConfiguration.decode(
            Self.configuration.replacingOccurrences(
                of: "paths: [/etc/app] }", with: "paths: [/etc/app] }\n  - { name: main-db, kind: postgres, url: \"postgresql://postgres@127.0.0.1/postgres\", pgdata: /var/lib/postgresql/15/main }"),
            file: "/etc/lifeboat/lifeboat.yaml")
        let text = """
            name: pg
            systemType: CRITICAL
            steps:
              - {name: restore-pg, type: RESTORE_BACKUP, source: main-db\(fields.isEmpty ? "" : ", " + fields)}
              - {name: verify-pg, type: VERIFY_SYSTEM, source: main-db, query: "SELECT count(*) > 0 FROM orders"}
            """
        do {
            try RecoveryPlan.parse(text, file: "plan.yaml").validate(against: config)
            #expect(refusal == nil, "accepted: \(fields)")
        } catch let error as RecoveryPlanError {
            #expect(refusal.map { "\(error)".hasPrefix($0) } == true, "\(fields): \(error)")
        }
        let onSQLite = "name: s\nsystemType: CRITICAL\nsteps:\n  - {name: r, type: RESTORE_BACKUP, source: app-db, toName: x}\n"
        #expect(throws: RecoveryPlanError.self) { try RecoveryPlan.parse(onSQLite, file: "plan.yaml").validate(against: config) }
    }

    @Test("after: lists that make a cycle are refused with the cycle")
    func cycle() throws {
        let text = """
            name: loop
            systemType: IMPORTANT
            steps:
              - {name: a, type: WAIT, duration: 1s, after: [c]}
              - {name: b, type: WAIT, duration: 1s, after: [a]}
              - {name: c, type: WAIT, duration: 1s, after: [b]}
            """
        #expect {
            try check(text)
        } throws: { error in
            "\(error)".hasPrefix("plan.yaml:") && "\(error)".contains("make a cycle (a -> b -> c -> a)")
        }
    }

    @Test("durations: units, bare seconds, and what is not one")
    func durations() {
        #expect(PlanDuration("30s")?.seconds == 30)
        #expect(PlanDuration("5m")?.seconds == 300)
        #expect(PlanDuration("2h")?.seconds == 7200)
        #expect(PlanDuration("90d")?.seconds == 7_776_000)
        #expect(PlanDuration("2w")?.seconds == 1_209_600)
        #expect(PlanDuration("45")?.seconds == 45)
        #expect(PlanDuration("5 minutes") == nil && PlanDuration("-5m") == nil && PlanDuration("m") == nil)
        #expect(PlanDuration.format(14_400) == "4h" && PlanDuration.format(90) == "90s" && PlanDuration.format(259_200) == "3d")
    }
}
