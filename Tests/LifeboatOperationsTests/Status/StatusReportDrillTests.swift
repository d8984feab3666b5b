import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

/// Drills in the status report (and so in `lifeboat status`, `/metrics` and the alerts):
/// real drills, run by the executor against a real repository and catalog, read back with
/// the report's clock moved past the plans' `testing: every`.
@Suite("StatusReport drills", .timeLimit(.minutes(10)))
struct StatusReportDrillTests {
    @Test("a failed drill is a condition at once; a plan not drilled successfully within its every is overdue; a passed drill is neither")
    func drillConditions() async throws {
        let fixture = try await RecoveryFixture(ScratchDirectory("status-drills"))
        try await fixture.store("name: orders\nsystemType: IMPORTANT\nsteps:\n  - {name: r, type: RESTORE_BACKUP, source: app-db}\ntesting: {every: 1h}\n")
        try await fixture.store(
            "name: broken\nsystemType: IMPORTANT\nsteps:\n  - {name: fails, type: RUN_COMMAND, command: [/bin/false], runInTest: true}\ntesting: {every: 1h}\n")
        try await fixture.store("name: adhoc\nsystemType: IMPORTANT\nsteps:\n  - {name: w, type: WAIT, duration: 0s}\n")

        let stored = Date()
        let beforeAnyDrill = try await StatusReport.load(fixture.context, now: stored.addingTimeInterval(1800))
        #expect(beforeAnyDrill.conditions.filter { $0.key.hasPrefix("drill-") }.isEmpty, "\(beforeAnyDrill.conditions)")
        let neverDrilled = try await StatusReport.load(fixture.context, now: stored.addingTimeInterval(2 * 3600))
        #expect(Set(neverDrilled.conditions.map(\.key).filter { $0.hasPrefix("drill-") }) == ["drill-overdue:broken", "drill-overdue:orders"])

        let passed = try await fixture.run("orders", .test)
        #expect(passed.status == .succeeded, "\(passed)")
        let failed = try await fixture.run("broken", .test)
        #expect(failed.status == .failed, "\(failed)")

        let now = Date()
        let report = try await StatusReport.load(fixture.context, now: now.addingTimeInterval(1800))
        #expect(report.conditions.map(\.key).filter { $0.hasPrefix("drill-") } == ["drill-failed:broken"], "\(report.conditions)")
        let orders = try #require(report.plans.first { $0.name == "orders" })
        #expect(orders.lastDrillPassed == true && orders.drillEverySeconds == 3600)
        // As the catalog stores them: to the millisecond.
        let finished = try #require(passed.finishedAt)
        let started = try #require(passed.startedAt)
        let lastDrill = try #require(orders.lastDrill)
        let nextDue = try #require(orders.nextDrillDue)
        #expect(abs(lastDrill.timeIntervalSince(finished)) < 0.01)
        #expect(abs(nextDue.timeIntervalSince(started.addingTimeInterval(3600))) < 0.01)
        #expect(report.plans.first { $0.name == "broken" }?.lastDrillPassed == false)
        let adhoc = try #require(report.plans.first { $0.name == "adhoc" })
        #expect(adhoc.drillEverySeconds == nil && adhoc.nextDrillDue == nil)

        // Past the interval, the passed drill is too old too; the plan without `testing` never is.
        let later = try await StatusReport.load(fixture.context, now: now.addingTimeInterval(2 * 3600))
        #expect(Set(later.conditions.map(\.key).filter { $0.hasPrefix("drill-") }) == ["drill-failed:broken", "drill-overdue:broken", "drill-overdue:orders"])
        #expect(later.needsAttention)
    }

    @Test("a source's RPO target is the strictest of its own rpo: and that of the plans that restore it")
    func planTargets() async throws {
        let fixture = try await RecoveryFixture(ScratchDirectory("status-plan-rpo"))
        let before = try await StatusReport.load(fixture.context, now: Date())
        let unplanned = try #require(before.sources.first { $0.name == "app-db" })
        #expect(!unplanned.rpoTargetIsConfigured || unplanned.rpoTargetSeconds > 1800)
        try await fixture.store("name: loose\nsystemType: IMPORTANT\nrpo: 2d\nsteps:\n  - {name: r, type: RESTORE_BACKUP, source: app-db}\n")
        try await fixture.store("name: strict\nsystemType: CRITICAL\nrpo: 30m\nsteps:\n  - {name: r, type: RESTORE_BACKUP, source: app-db}\n")
        try await fixture.store("name: other\nsystemType: CRITICAL\nrpo: 1m\nsteps:\n  - {name: w, type: WAIT, duration: 0s}\n")
        let report = try await StatusReport.load(fixture.context, now: Date())
        let source = try #require(report.sources.first { $0.name == "app-db" })
        #expect(source.rpoTargetSeconds == 1800 && source.rpoTargetIsConfigured, "\(source)")
    }
}
