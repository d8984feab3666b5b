import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

/// The probe against real locations: a PRIMARY repository with WAL segments pushed at known
/// times, a removable medium that is not there, the file system the scratch folder is on.
@Suite("HealthProbe", .timeLimit(.minutes(10)))
struct HealthProbeTests {
    static let db = "  - { name: db, kind: postgres, url: \"postgresql://postgres@127.0.0.1:1/postgres\" }"

    func push(_ name: String, at date: Date, _ fixture: OperationsFixture) async throws {
        let repository = try await fixture.context.repository(in: try fixture.context.configuration.requirePrimary(), passphrase: TestRepository.passphrase)
        let file = try fixture.scratch.sub("pg_wal") + "/" + name
        try FileTree.write(file, Array(repeating: UInt8(7), count: 8192))
        _ = try await WalArchive(repository: repository).push(path: file, now: date, host: "testhost", username: "tester")
    }

    @Test("the newest archived WAL segment gives the PostgreSQL RPO; silent for more than twice the TRANSACTION_LOG interval is an alert")
    func walArchiving() async throws {
        let fixture = try await OperationsFixture(ScratchDirectory("probe-wal"), extraSources: Self.db)
        defer { Task { await fixture.context.backends.shutdown() } }
        let now = Date()
        try await push("000000010000000000000001", at: now.addingTimeInterval(-10 * 3600), fixture)
        try await push("000000010000000000000002", at: now.addingTimeInterval(-9 * 3600), fixture)
        let report = try await StatusReport.load(fixture.context, now: now)

        let probe = HealthProbe(context: fixture.context, passphrase: TestRepository.passphrase)
        let silent = await probe.current(now: now)
        let pushed = try #require(silent.newestWalPush)
        #expect(abs(pushed.timeIntervalSince(now) + 9 * 3600) < 0.01, "the newest segment's push time, not the first's")
        let keys = probe.conditions(silent, report: report, now: now).map(\.key)
        // The seed's TRANSACTION_LOG every 4 hours allows 8 hours of silence.
        #expect(keys.contains("wal-archiving:db"), "\(keys)")

        try await push("000000010000000000000003", at: now.addingTimeInterval(-3600), fixture)
        #expect(await probe.current(now: now).newestWalPush == pushed, "a result is kept for maxAge")
        let fresh = HealthProbe(context: fixture.context, passphrase: TestRepository.passphrase)
        let archiving = await fresh.current(now: now)
        #expect(!fresh.conditions(archiving, report: report, now: now).map(\.key).contains("wal-archiving:db"))
    }

    @Test("a location that is not there is unreachable and breaks 3-2-1-1-0, as `lifeboat locations` says; PRIMARY's free space below the threshold is an alert")
    func locationsAndSpace() async throws {
        let fixture = try await OperationsFixture(ScratchDirectory("probe-locations"), extraSources: "alerts: { primaryMinFreePercent: 100 }")
        defer { Task { await fixture.context.backends.shutdown() } }
        let assessment = await LocationAssessment(context: fixture.context).assess(verify: false, passphrase: nil)
        let probe = HealthProbe(context: fixture.context, passphrase: TestRepository.passphrase)
        let now = Date()
        let result = await probe.current(now: now)
        #expect(result.locations.map(\.name) == assessment.locations.map(\.name))
        #expect(result.locations.map(\.reachable) == assessment.locations.map(\.reachable))
        #expect(result.locations.map(\.reachable) == [true, false], "\(result.locations)")
        #expect(result.ruleMet == assessment.rule.met && !result.ruleMet)
        let size = try #require(try FileManager.default.attributesOfFileSystem(forPath: fixture.scratch.path)[.systemSize] as? NSNumber)
        #expect(result.primaryTotalBytes == size.int64Value)
        #expect((result.primaryFreeBytes ?? -1) > 0)
        #expect(result.newestWalPush == nil && result.walProblem == nil, "no PostgreSQL source: the WAL archive is not read")

        let report = try await StatusReport.load(fixture.context, now: now)
        let keys = Set(probe.conditions(result, report: report, now: now).map(\.key))
        #expect(keys == ["location-unreachable:usb", "rule-3-2-1-1-0", "primary-space-low:primary"])
    }
}
