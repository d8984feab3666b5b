import Foundation
import LifeboatCore
import Testing

@Suite("CronExpression in a time zone")
struct CronExpressionTimeZoneTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let cron: String
        let zone: String
        let after: String
        let next: String
        var testDescription: String { "\(cron) in \(zone) after \(after) is \(next)" }
    }

    @Test("the next run follows the zone's wall clock through its daylight-saving changes", arguments: [
        // Berlin, an ordinary day: 02:00 CET is 01:00 UTC.
        Case(cron: "0 2 * * *", zone: "Europe/Berlin", after: "2026-03-20T12:00:00Z", next: "2026-03-21T01:00:00Z"),
        // Spring forward on 2026-03-29 (02:00 CET -> 03:00 CEST, at 01:00 UTC): 02:00 and 02:30
        // do not exist, and run once at the first valid instant.
        Case(cron: "0 2 * * *", zone: "Europe/Berlin", after: "2026-03-28T12:00:00Z", next: "2026-03-29T01:00:00Z"),
        Case(cron: "30 2 * * *", zone: "Europe/Berlin", after: "2026-03-28T12:00:00Z", next: "2026-03-29T01:00:00Z"),
        Case(cron: "0 2 * * *", zone: "Europe/Berlin", after: "2026-03-29T01:00:00Z", next: "2026-03-30T00:00:00Z"),
        // Fall back on 2026-10-25 (03:00 CEST -> 02:00 CET, at 01:00 UTC): 02:00 exists twice and runs at the first.
        Case(cron: "0 2 * * *", zone: "Europe/Berlin", after: "2026-10-24T12:00:00Z", next: "2026-10-25T00:00:00Z"),
        Case(cron: "0 2 * * *", zone: "Europe/Berlin", after: "2026-10-25T00:00:00Z", next: "2026-10-26T01:00:00Z"),
        Case(cron: "0 2 * * *", zone: "Europe/Berlin", after: "2026-10-25T00:30:00Z", next: "2026-10-26T01:00:00Z"),
        Case(cron: "0 * * * *", zone: "Europe/Berlin", after: "2026-10-25T00:00:00Z", next: "2026-10-25T02:00:00Z"),
        Case(cron: "0 */4 * * *", zone: "Europe/Berlin", after: "2026-10-24T21:00:00Z", next: "2026-10-24T22:00:00Z"),
        Case(cron: "0 */4 * * *", zone: "Europe/Berlin", after: "2026-10-24T22:00:00Z", next: "2026-10-25T03:00:00Z"),
        // New York: spring forward 2026-03-08 at 07:00 UTC, fall back 2026-11-01 at 06:00 UTC.
        Case(cron: "0 2 * * 0", zone: "America/New_York", after: "2026-03-07T12:00:00Z", next: "2026-03-08T07:00:00Z"),
        Case(cron: "30 1 * * *", zone: "America/New_York", after: "2026-10-31T12:00:00Z", next: "2026-11-01T05:30:00Z"),
        Case(cron: "30 1 * * *", zone: "America/New_York", after: "2026-11-01T05:30:00Z", next: "2026-11-02T06:30:00Z"),
        Case(cron: "30 1 * * *", zone: "America/New_York", after: "2026-11-01T06:10:00Z", next: "2026-11-02T06:30:00Z"),
        // A zone without daylight saving, and UTC itself.
        Case(cron: "0 2 * * *", zone: "Asia/Tokyo", after: "2026-03-28T12:00:00Z", next: "2026-03-28T17:00:00Z"),
        Case(cron: "0 */4 * * *", zone: "UTC", after: "2026-11-27T13:00:00Z", next: "2026-11-27T16:00:00Z"),
    ])
    func next(_ c: Case) throws {
        let zone = try #require(TimeZone(identifier: c.zone))
        let after = try #require(ISO8601DateFormatter().date(from: c.after))
        let expected = try #require(ISO8601DateFormatter().date(from: c.next))
        #expect(try CronExpression(c.cron).next(after: after, in: zone) == expected)
    }

    @Test("a daily job fires once a day through a whole year of a daylight-saving zone")
    func onceADay() throws {
        let zone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let cron = try CronExpression("30 2 * * *")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var at = try #require(ISO8601DateFormatter().date(from: "2026-01-01T00:00:00Z"))
        var days: [DateComponents] = []
        for _ in 0..<365 {
            at = try #require(cron.next(after: at, in: zone))
            days.append(calendar.dateComponents([.year, .month, .day], from: at))
        }
        #expect(Set(days).count == 365)
    }
}
