import Foundation
import Testing

@testable import LifeboatCore

@Suite("RetentionPolicy")
struct RetentionPolicyTests {
    /// Snapshots at the given hours after 2026-01-05 00:00 UTC (a Monday), same host and paths.
    static func snapshots(hours: [Double], tags: [Int: [String]] = [:]) -> [SnapshotEntry] {
        let base = Date(timeIntervalSince1970: 1_767_571_200)
        return hours.enumerated().map { i, h in
            let s = Snapshot(
                time: base + h * 3600, endTime: base + h * 3600, type: .full, source: .files, paths: ["/data"], tags: tags[i] ?? [],
                host: "h", username: "u", parent: nil, tree: BlobID(Digest256.random()), dataKey: DataKeyID(Digest256.random()),
                programVersion: "t", excludes: [], statistics: .init(), checks: .init(), warnings: [])
            return SnapshotEntry(id: SnapshotID(Digest256.random()), snapshot: s)
        }
    }

    static let hours: [Double] = [0, 1, 2, 25, 26, 49, 24 * 8, 24 * 8 + 1, 24 * 40, 24 * 400]

    struct Case: Sendable, CustomTestStringConvertible {
        let policy: RetentionPolicy
        let kept: Set<Int>
        var testDescription: String { "\(policy) keeps \(kept.sorted())" }
    }

    @Test("a kept TRANSACTION_LOG snapshot keeps its base backup, which the rules alone would drop")
    func transactionLogKeepsItsBase() {
        var entries = Self.snapshots(hours: [0, 1, 2])
        var log = entries[2].snapshot
        log.type = .transactionLog
        log.parent = entries[0].id
        entries[2] = SnapshotEntry(id: entries[2].id, snapshot: log)
        let decisions = RetentionPolicy(last: 1).apply(to: entries)
        #expect(decisions.map(\.keep) == [true, false, true])
        #expect(decisions[0].reasons == ["base of \(entries[2].id.shortHex)"])
    }

    @Test("each rule keeps what it should", arguments: [
        Case(policy: RetentionPolicy(last: 3), kept: [7, 8, 9]),
        Case(policy: RetentionPolicy(daily: 3), kept: [9, 8, 7]),
        Case(policy: RetentionPolicy(daily: 5), kept: [9, 8, 7, 5, 4]),
        Case(policy: RetentionPolicy(hourly: 2), kept: [9, 8]),
        Case(policy: RetentionPolicy(weekly: 2), kept: [9, 8]),
        Case(policy: RetentionPolicy(weekly: 3), kept: [9, 8, 7]),
        Case(policy: RetentionPolicy(monthly: 2), kept: [9, 8]),
        Case(policy: RetentionPolicy(yearly: 2), kept: [9, 8]),
        Case(policy: RetentionPolicy(last: 1, yearly: 5), kept: [9, 8]),
        Case(policy: RetentionPolicy(within: .seconds(9410 * 3600)), kept: [9, 8, 7, 6]),
        Case(policy: RetentionPolicy(tags: ["keep"]), kept: [2]),
        Case(policy: RetentionPolicy(), kept: Set(0..<10)),
    ])
    func rules(_ c: Case) {
        let list = Self.snapshots(hours: Self.hours, tags: [2: ["keep"]])
        let decisions = c.policy.apply(to: list)
        let kept = Set(decisions.enumerated().filter { $0.element.keep }.map(\.offset))
        #expect(kept == c.kept)
    }

    @Test("groups by host and paths: each group keeps its own newest")
    func grouping() {
        var list = Self.snapshots(hours: [0, 1])
        var other = Self.snapshots(hours: [5])[0].snapshot
        other.paths = ["/other"]
        list.append(SnapshotEntry(id: SnapshotID(Digest256.random()), snapshot: other))
        let kept = RetentionPolicy(last: 1).apply(to: list).map(\.keep)
        #expect(kept == [false, true, true])
    }

    @Test("durations parse like restic's, with weeks", arguments: [
        ("36h", 36 * 3600), ("7d", 7 * 86400), ("2w", 14 * 86400), ("6m", 180 * 86400), ("1y2m", 425 * 86400),
    ])
    func durations(_ text: String, _ seconds: Int) {
        #expect(RetentionPolicy.parseDuration(text) == .seconds(seconds))
    }

    @Test("malformed durations are refused, and too many digits never trap", arguments: ["", "h", "5", "5x", "-3d", "٣d", "99999999999999999999h", "9223372036854775807y", "300000000000000y300000000000000y"])
    func badDurations(_ text: String) {
        #expect(RetentionPolicy.parseDuration(text) == nil)
    }
}
