import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@testable import LifeboatOperations

@Suite("Scheduler")
struct SchedulerTests {
    /// A simulated stretch of the daemon's life: its configuration, when it is up, how long
    /// jobs take, and what must come of it: the count of runs per job over the whole stretch
    /// and the exact runs inside a window (local time with its UTC offset).
    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var zone: String
        var yaml: String
        /// Recovery plans drilled every so many hours (their entries come from the catalog).
        var drills: [String: Int] = [:]
        var uptimes: [(String, String)]
        var maxConcurrentJobs = 2
        /// Minutes a run lasts, by "MM-dd HH:mm JOB" of its start (local); 10 otherwise.
        var longRuns: [String: Int] = [:]
        /// Every job ran this long before the first start; nil: the daemon's first start ever.
        var ranBefore: Duration? = .seconds(60)
        var counts: [String: Int]
        var window: (String, String)
        var expected: [String]
        var testDescription: String { name }
    }

    static let sources = """
        locations:
          - { name: primary, role: PRIMARY, path: /srv/backup/primary }
        sources:
          - { name: app, kind: files, paths: [/srv/app] }
          - { name: db, kind: postgres, url: "postgresql://postgres@127.0.0.1/postgres" }
        """

    static let scenarios: [Scenario] = [
        Scenario(
            name: "October in Berlin (fall-back on the 25th), the seed's schedules, always up",
            zone: "Europe/Berlin",
            yaml: sources + "\nserver: { timeZone: Europe/Berlin }",
            uptimes: [("2026-09-30T12:00:00Z", "2026-10-31T22:30:00Z")],
            counts: ["FULL app": 4, "INCREMENTAL app": 27, "FULL db": 4, "INCREMENTAL db": 27, "TRANSACTION_LOG db": 188, "prune primary": 4],
            window: ("2026-10-24T21:00:00Z", "2026-10-25T06:00:00Z"),
            expected: [
                "10-25 00:00+02 TRANSACTION_LOG db",
                "10-25 02:00+02 FULL app",
                "10-25 02:00+02 FULL db",
                "10-25 04:00+01 TRANSACTION_LOG db",
                "10-25 05:00+01 prune primary",
            ]),
        Scenario(
            name: "March in New York (spring-forward on the 8th), down a day and a half, a FULL of 50 hours",
            zone: "America/New_York",
            yaml: """
                locations:
                  - { name: primary, role: PRIMARY, path: /srv/backup/primary }
                sources:
                  - { name: app, kind: files, paths: [/srv/app] }
                server: { timeZone: America/New_York }
                """,
            uptimes: [("2026-02-28T17:00:00Z", "2026-03-17T20:00:00Z"), ("2026-03-19T16:00:00Z", "2026-03-31T12:00:00Z")],
            longRuns: ["03-22 02:00 FULL app": 50 * 60],
            counts: ["FULL app": 5, "INCREMENTAL app": 24, "prune primary": 5],
            window: ("2026-03-07T12:00:00Z", "2026-03-25T12:00:00Z"),
            expected: [
                "03-08 03:00-04 FULL app",
                "03-08 05:00-04 prune primary",
                "03-09 02:00-04 INCREMENTAL app",
                "03-10 02:00-04 INCREMENTAL app",
                "03-11 02:00-04 INCREMENTAL app",
                "03-12 02:00-04 INCREMENTAL app",
                "03-13 02:00-04 INCREMENTAL app",
                "03-14 02:00-04 INCREMENTAL app",
                "03-15 02:00-04 FULL app",
                "03-15 05:00-04 prune primary",
                "03-16 02:00-04 INCREMENTAL app",
                "03-17 02:00-04 INCREMENTAL app",
                // Down from the 17th 16:00 to the 19th 12:00: the 18th's and 19th's slots run once, at start.
                "03-19 12:00-04 INCREMENTAL app catch-up",
                "03-20 02:00-04 INCREMENTAL app",
                "03-21 02:00-04 INCREMENTAL app",
                // The FULL runs to Tuesday 04:00: the prune waits for it (never beside a backup), the
                // INCREMENTALs of Monday and Tuesday wait behind the prune and run once.
                "03-22 02:00-04 FULL app",
                "03-24 04:00-04 prune primary",
                "03-24 04:10-04 INCREMENTAL app",
                "03-25 02:00-04 INCREMENTAL app",
            ]),
        Scenario(
            name: "three sources at 02:00 under a limit of two, and a transaction log longer than its interval",
            zone: "UTC",
            yaml: """
                locations:
                  - { name: primary, role: PRIMARY, path: /srv/backup/primary }
                sources:
                  - { name: a, kind: files, paths: [/srv/a] }
                  - { name: b, kind: files, paths: [/srv/b] }
                  - { name: c, kind: files, paths: [/srv/c] }
                  - { name: db, kind: postgres, url: "postgresql://postgres@127.0.0.1/postgres" }
                schedules:
                  - { source: a, type: INCREMENTAL, cron: "0 2 * * *" }
                  - { source: b, type: INCREMENTAL, cron: "0 2 * * *" }
                  - { source: c, type: INCREMENTAL, cron: "0 2 * * *" }
                  - { source: db, type: TRANSACTION_LOG, cron: "0 */4 * * *" }
                server: { timeZone: UTC, prune: "0 3 * * *" }
                """,
            uptimes: [("2026-06-01T01:00:00Z", "2026-06-02T23:00:00Z")],
            longRuns: ["06-01 02:00 INCREMENTAL a": 30, "06-01 02:00 INCREMENTAL b": 70, "06-01 04:00 TRANSACTION_LOG db": 9 * 60],
            counts: ["INCREMENTAL a": 2, "INCREMENTAL b": 2, "INCREMENTAL c": 2, "TRANSACTION_LOG db": 10, "prune primary": 2],
            window: ("2026-06-01T01:00:00Z", "2026-06-01T23:00:00Z"),
            expected: [
                "06-01 02:00+00 INCREMENTAL a",
                "06-01 02:00+00 INCREMENTAL b",
                // The third waits for a free place under the limit of two.
                "06-01 02:30+00 INCREMENTAL c",
                // The prune is due at 03:00 while b still runs until 03:10.
                "06-01 03:10+00 prune primary",
                "06-01 04:00+00 TRANSACTION_LOG db",
                // The 08:00 and 12:00 slots pass while it runs until 13:00: one run then.
                "06-01 13:00+00 TRANSACTION_LOG db",
                "06-01 16:00+00 TRANSACTION_LOG db",
                "06-01 20:00+00 TRANSACTION_LOG db",
            ]),
        Scenario(
            name: "a first start ever: every backup runs at once, one job per source at a time",
            zone: "UTC",
            yaml: sources + "\nserver: { timeZone: UTC }",
            uptimes: [("2026-06-03T10:00:00Z", "2026-06-03T13:00:00Z")],
            ranBefore: nil,
            counts: ["FULL app": 1, "FULL db": 1, "TRANSACTION_LOG db": 2],
            window: ("2026-06-03T10:00:00Z", "2026-06-03T13:00:00Z"),
            expected: [
                "06-03 10:00+00 FULL app catch-up",
                "06-03 10:00+00 FULL db catch-up",
                "06-03 10:10+00 TRANSACTION_LOG db catch-up",
                "06-03 12:00+00 TRANSACTION_LOG db",
            ]),
        Scenario(
            name: "a plan drilled every 2 days beside two sources: caught up once after 3 days down, counted in the limit, never beside a prune",
            zone: "UTC",
            yaml: """
                locations:
                  - { name: primary, role: PRIMARY, path: /srv/backup/primary }
                sources:
                  - { name: app, kind: files, paths: [/srv/app] }
                  - { name: b, kind: files, paths: [/srv/b] }
                schedules:
                  - { source: app, type: INCREMENTAL, cron: "0 2 * * *" }
                  - { source: b, type: INCREMENTAL, cron: "0 2 * * *" }
                server: { timeZone: UTC, prune: "0 3 * * *" }
                """,
            drills: ["orders": 48],
            uptimes: [("2026-06-01T00:00:00Z", "2026-06-03T12:00:00Z"), ("2026-06-07T00:00:00Z", "2026-06-09T23:00:00Z")],
            longRuns: ["06-09 00:00 drill orders": 4 * 60],
            counts: ["INCREMENTAL app": 7, "INCREMENTAL b": 7, "prune primary": 7, "drill orders": 3],
            window: ("2026-06-02T12:00:00Z", "2026-06-09T23:00:00Z"),
            expected: [
                // Every 48 hours after the last drill (taken to have run a minute before the first start).
                "06-02 23:59+00 drill orders",
                "06-03 02:00+00 INCREMENTAL app",
                "06-03 02:00+00 INCREMENTAL b",
                "06-03 03:00+00 prune primary",
                // Down from the 3rd 12:00 to the 7th: the 4th's drill and the missed slots run once,
                // the prune after the backups, the drill after the prune (never beside it).
                "06-07 00:00+00 INCREMENTAL app catch-up",
                "06-07 00:00+00 INCREMENTAL b catch-up",
                "06-07 00:10+00 prune primary catch-up",
                "06-07 00:20+00 drill orders catch-up",
                "06-07 02:00+00 INCREMENTAL app",
                "06-07 02:00+00 INCREMENTAL b",
                "06-07 03:00+00 prune primary",
                "06-08 02:00+00 INCREMENTAL app",
                "06-08 02:00+00 INCREMENTAL b",
                "06-08 03:00+00 prune primary",
                // 48 hours after the catch-up's slot; it lasts 4 hours: b waits for a place under
                // the limit of two, the prune for the drill to end.
                "06-09 00:00+00 drill orders",
                "06-09 02:00+00 INCREMENTAL app",
                "06-09 02:10+00 INCREMENTAL b",
                "06-09 04:00+00 prune primary",
            ]),
    ]

    @Test("a simulated stretch of the daemon's life gives exactly the expected runs", .timeLimit(.minutes(10)), arguments: scenarios)
    func simulate(_ s: Scenario) async throws {
        let zone = try #require(TimeZone(identifier: s.zone))
        let config = try LifeboatConfiguration.decode(s.yaml, file: "/etc/lifeboat/lifeboat.yaml")
        let iso = ISO8601DateFormatter()
        let label = DateFormatter()
        label.locale = Locale(identifier: "en_US_POSIX")
        label.timeZone = zone
        label.dateFormat = "MM-dd HH:mmx"
        let key = DateFormatter()
        key.locale = Locale(identifier: "en_US_POSIX")
        key.timeZone = zone
        key.dateFormat = "MM-dd HH:mm"
        let drills = s.drills.sorted { $0.key < $1.key }.map { ScheduleEntry(job: .drill(plan: $0.key), every: .seconds($0.value * 3600)) }
        var simulation = SchedulerSimulation(entries: try config.scheduleEntries() + drills, backupRepository: "primary")
        simulation.maxConcurrentJobs = s.maxConcurrentJobs
        let longRuns = s.longRuns
        simulation.duration = { run in
            let minutes = longRuns["\(key.string(from: run.startedAt ?? .distantPast)) \(Self.name(run.job))"] ?? 10
            return .seconds(minutes * 60)
        }
        let uptimes = try s.uptimes.map { (from, to) in
            let start = try #require(iso.date(from: from))
            let end = try #require(iso.date(from: to))
            return start...end
        }
        let runs = try await simulation.run(uptimes: uptimes, ranBefore: s.ranBefore)

        var counts: [String: Int] = [:]
        for run in runs { counts[Self.name(run.job), default: 0] += 1 }
        #expect(counts == s.counts)
        let windowStart = try #require(iso.date(from: s.window.0))
        let windowEnd = try #require(iso.date(from: s.window.1))
        let window = windowStart...windowEnd
        let inWindow = runs.filter { window.contains($0.startedAt) }.sorted { ($0.startedAt, Self.name($0.job)) < ($1.startedAt, Self.name($1.job)) }
        #expect(inWindow.map { "\(label.string(from: $0.startedAt)) \(Self.name($0.job))\($0.isCatchUp ? " catch-up" : "")" } == s.expected)
        // No two runs of a source overlap, and never more than the limit at once.
        let spans = runs.map { ($0, $0.startedAt.addingTimeInterval(simulation.duration(ScheduledRun(sequence: 0, lane: $0.job.lane, job: $0.job, slot: $0.startedAt, isCatchUp: false, scheduleType: .scheduled, startedAt: $0.startedAt)).seconds)) }
        for (run, _) in spans {
            // What runs at the instant this one starts (the most there are at once is met at some start).
            let beside = spans.filter { $0.0.startedAt <= run.startedAt && $0.1 > run.startedAt }
            #expect(beside.count <= s.maxConcurrentJobs)
            #expect(beside.filter { $0.0.job.lane.source == run.job.lane.source }.count == 1)
        }
    }

    static func name(_ job: ScheduleEntry.Job) -> String {
        switch job {
        case .backup(let source, let type): return "\(type.rawValue) \(source)"
        case .prune(let repository): return "prune \(repository)"
        case .drill(let plan): return "drill \(plan)"
        }
    }
}
