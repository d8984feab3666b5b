import Foundation

/// Which snapshots to keep: the rules of `forget` (restic's semantics).
///
/// Snapshots are grouped (by host and paths); in each group, newest first, a snapshot is
/// kept when any rule wants it: the `last` N; the newest in each of the last N hours,
/// days, ISO weeks, months, years that have a snapshot; any within `within` of the newest
/// snapshot; any carrying one of `tags`. Everything else is forgotten. A policy with no
/// rule keeps everything (forgetting all by mistake is not an option).
public struct RetentionPolicy: Sendable, Equatable, Codable {
    public var last = 0
    public var hourly = 0
    public var daily = 0
    public var weekly = 0
    public var monthly = 0
    public var yearly = 0
    public var within: Duration?
    public var tags: [String] = []

    public init(last: Int = 0, hourly: Int = 0, daily: Int = 0, weekly: Int = 0, monthly: Int = 0, yearly: Int = 0, within: Duration? = nil, tags: [String] = []) {
        self.last = last
        self.hourly = hourly
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.yearly = yearly
        self.within = within
        self.tags = tags
    }

    public var isEmpty: Bool {
        last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 && within == nil && tags.isEmpty
    }

    /// A decision about one snapshot, with the rules that keep it.
    public struct Decision: Sendable, Equatable {
        public let entry: SnapshotID
        public let keep: Bool
        public let reasons: [String]
    }

    /// Decides for every snapshot; the result is in the input's order.
    /// - Parameter calendar: time zone for hours, days and weeks (UTC by default, so that a
    ///   plan is the same on every host).
    public func apply(to snapshots: [SnapshotEntry], calendar: Calendar = RetentionPolicy.utcCalendar) -> [Decision] {
        guard !isEmpty else { return snapshots.map { Decision(entry: $0.id, keep: true, reasons: ["no policy"]) } }
        var reasons: [SnapshotID: [String]] = [:]
        let groups = Dictionary(grouping: snapshots) { GroupKey(host: $0.snapshot.host, paths: $0.snapshot.paths, source: $0.snapshot.source.kind) }
        for (_, group) in groups {
            let newestFirst = group.sorted { ($0.snapshot.time, $0.id) > ($1.snapshot.time, $1.id) }
            for (i, e) in newestFirst.enumerated() where i < last { reasons[e.id, default: []].append("last \(last)") }
            let buckets: [(Int, String, (Date) -> [Int])] = [
                (hourly, "hourly", { calendar.dateComponents([.year, .month, .day, .hour], from: $0).asKey }),
                (daily, "daily", { calendar.dateComponents([.year, .month, .day], from: $0).asKey }),
                (weekly, "weekly", { calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0).asKey }),
                (monthly, "monthly", { calendar.dateComponents([.year, .month], from: $0).asKey }),
                (yearly, "yearly", { calendar.dateComponents([.year], from: $0).asKey }),
            ]
            for (count, name, bucket) in buckets where count > 0 {
                var seen: [[Int]] = []
                for e in newestFirst {
                    let key = bucket(e.snapshot.time)
                    if seen.last != key {
                        guard seen.count < count else { break }
                        seen.append(key)
                        reasons[e.id, default: []].append("\(name) \(seen.count)")
                    }
                }
            }
            if let within, let newest = newestFirst.first?.snapshot.time {
                let limit = newest - TimeInterval(within.components.seconds)
                for e in newestFirst where e.snapshot.time >= limit { reasons[e.id, default: []].append("within \(within)") }
            }
            if !tags.isEmpty {
                for e in newestFirst where !Set(e.snapshot.tags).isDisjoint(with: tags) { reasons[e.id, default: []].append("tagged") }
            }
        }
        // A TRANSACTION_LOG snapshot restores through its base backup: keeping one keeps both.
        let present = Set(snapshots.map(\.id))
        for e in snapshots where e.snapshot.type == .transactionLog && reasons[e.id] != nil {
            if let base = e.snapshot.parent, present.contains(base) {
                reasons[base, default: []].append("base of \(e.id.shortHex)")
            }
        }
        return snapshots.map { Decision(entry: $0.id, keep: reasons[$0.id] != nil, reasons: reasons[$0.id] ?? []) }
    }

    struct GroupKey: Hashable {
        let host: String
        let paths: [String]
        let source: SourceKind
    }

    public static let utcCalendar: Calendar = {
        var c = Calendar(identifier: .iso8601)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    /// Parses durations like `90m`, `36h`, `7d`, `2w`, `1y2m` (m is minutes before h,
    /// months after d: as restic, `y`, `m`(onth), `d`, `h` are accepted; plus `w`).
    public static func parseDuration(_ text: String) -> Duration? {
        var total: Int64 = 0
        var number: Int64 = 0
        var sawDigit = false
        // Every step checks for overflow: a duration is user input, and too many digits
        // must be refused, not trap.
        for c in text.unicodeScalars {
            if c.isASCII, let d = Int64(String(c)) {
                let (times10, o1) = number.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(d)
                guard !o1, !o2 else { return nil }
                number = next
                sawDigit = true
                continue
            }
            guard sawDigit else { return nil }
            let unit: Int64
            switch c {
            case "y": unit = 365 * 86400
            case "m": unit = 30 * 86400
            case "w": unit = 7 * 86400
            case "d": unit = 86400
            case "h": unit = 3600
            default: return nil
            }
            let (seconds, o1) = number.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(seconds)
            guard !o1, !o2 else { return nil }
            total = sum
            number = 0
            sawDigit = false
        }
        guard !sawDigit, total > 0 else { return nil }
        return .seconds(total)
    }
}

extension DateComponents {
    fileprivate var asKey: [Int] {
        [yearForWeekOfYear ?? year ?? 0, weekOfYear ?? month ?? 0, day ?? 0, hour ?? 0]
    }
}
