import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import Testing

/// Plans, executions and step runs in the catalog, on SQLite and on PostgreSQL.
@Suite("Catalog: recovery plans and executions")
struct RecoveryCatalogTests {
    @Test("plan revisions are numbered and all kept; the same text adds none", arguments: CatalogKind.available)
    func revisions(kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try await catalog.addPlanRevision(name: "orders", document: "a", by: "ann", at: date).revision.revision == 1)
        #expect(try await catalog.addPlanRevision(name: "orders", document: "a", by: "ann", at: date).isNew == false)
        #expect(try await catalog.addPlanRevision(name: "orders", document: "b", by: "bob", at: date).revision.revision == 2)
        #expect(try await catalog.addPlanRevision(name: "other", document: "c", by: "ann", at: date).revision.revision == 1)
        #expect(try await catalog.planRevisions(name: "orders").map(\.document) == ["a", "b"])
        #expect(try await catalog.planRevision(name: "orders")?.createdBy == "bob")
        #expect(try await catalog.planRevision(name: "orders", revision: 1)?.document == "a")
        #expect(try await catalog.planRevision(name: "orders", revision: 3) == nil)
        #expect(try await catalog.latestPlans().map { "\($0.name) \($0.revision)" } == ["orders 2", "other 1"])
    }

    @Test("an execution and its steps are saved at each transition: claim, step runs with a bounded log, approval, cancel", arguments: CatalogKind.available)
    func executions(kind: CatalogKind) async throws {
        let fixture = try CatalogFixture(kind)
        let catalog = try await fixture.open()
        defer { Task { await catalog.close() } }
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let id = try await catalog.createExecution(
            .init(
                plan: "orders", revision: 2, mode: .test, user: "ann", incidentTime: start.addingTimeInterval(-60), createdAt: start, rtoTargetSeconds: 14_400,
                rpoTargetSeconds: 3600, steps: [("restore", "RESTORE_BACKUP", true), ("sign-off", "MANUAL_APPROVAL", true)]))
        let fresh = try #require(try await catalog.execution(id: id))
        #expect(fresh.status == .pending && fresh.steps.map(\.name) == ["restore", "sign-off"] && fresh.steps.allSatisfy { $0.status == .pending })

        let owner = ProcessIdentity(host: "h", bootID: "b", pid: 42, startTicks: 7)
        let claimed = try await catalog.claimExecution(id, owner: owner, leaseExpiresAt: start.addingTimeInterval(60), at: start) { $0.host == nil }
        #expect(claimed?.status == .running && claimed?.pid == 42 && claimed?.startedAt == start)
        #expect(try await catalog.claimExecution(id, owner: owner, leaseExpiresAt: start, at: start) { $0.host == nil } == nil)

        var running = Catalog.StepChange()
        running.status = .running
        running.attempts = 1
        try await catalog.updateStep(id, "restore", running)
        var done = Catalog.StepChange()
        done.status = .succeeded
        done.appendLog = String(repeating: "x", count: Catalog.stepLogLimit) + "the end\n"
        done.restorePoint = start.addingTimeInterval(-600)
        try await catalog.updateStep(id, "restore", done)
        let step = try #require(try await catalog.execution(id: id)?.step("restore"))
        #expect(step.status == .succeeded && step.attempts == 1 && step.restorePoint == start.addingTimeInterval(-600))
        #expect(step.log.hasSuffix("the end\n") && step.log.utf8.count <= Catalog.stepLogLimit + 4)

        #expect(try await catalog.approveStep(id, "restore", by: "bob", comment: nil, at: start) == false)
        #expect(try await catalog.approveStep(id, "sign-off", by: "bob", comment: "ok", at: start))
        #expect(try await catalog.approveStep(id, "sign-off", by: "eve", comment: nil, at: start) == false)
        #expect(try await catalog.execution(id: id)?.step("sign-off")?.approvedBy == "bob")

        let asked = try await catalog.requestCancel(id, executorGone: false, at: start)
        #expect(asked.cancelRequested && asked.status == .running)
        let cancelled = try await catalog.requestCancel(id, executorGone: true, at: start)
        #expect(cancelled.status == .cancelled && cancelled.step("sign-off")?.status == .cancelled && cancelled.step("restore")?.status == .succeeded)
        #expect(try await catalog.executions(plan: "orders").map(\.id) == [id])
        #expect(try await catalog.executions(plan: "other").isEmpty)
    }
}
