import Foundation
import LifeboatCore
import Testing

@Suite("CronExpression")
struct CronExpressionTests {
    static func utc(_ text: String) -> Date {
        let f = ISO8601DateFormatter()
        return f.date(from: text)!
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let cron: String
        let after: String
        let next: String
        var testDescription: String { "\(cron) after \(after) is \(next)" }
    }

    @Test("the next run is the first matching minute after the given time (UTC)", arguments: [
        // The seed's schedules: FULL weekly on Sunday 02:00, INCREMENTAL daily 02:00, TRANSACTION_LOG every 4 hours.
        Case(cron: "0 2 * * 0", after: "2026-11-27T13:00:00Z", next: "2026-11-29T02:00:00Z"),
        Case(cron: "0 2 * * *", after: "2026-11-27T13:00:00Z", next: "2026-11-28T02:00:00Z"),
        Case(cron: "0 */4 * * *", after: "2026-11-27T13:00:00Z", next: "2026-11-27T16:00:00Z"),
        Case(cron: "0 */4 * * *", after: "2026-11-27T16:00:00Z", next: "2026-11-27T20:00:00Z"),
        Case(cron: "*/15 9-17 * * MON-FRI", after: "2026-11-27T17:50:00Z", next: "2026-11-30T09:00:00Z"),
        Case(cron: "30 1 1,15 * *", after: "2026-11-15T01:30:00Z", next: "2026-12-01T01:30:00Z"),
        Case(cron: "0 0 29 2 *", after: "2026-03-01T00:00:00Z", next: "2028-02-29T00:00:00Z"),
        Case(cron: "@monthly", after: "2026-12-31T23:59:00Z", next: "2027-01-01T00:00:00Z"),
        Case(cron: "0 12 13 * 5", after: "2026-11-27T12:00:00Z", next: "2026-12-04T12:00:00Z"),
        Case(cron: "5/20 * * * *", after: "2026-11-27T10:46:10Z", next: "2026-11-27T11:05:00Z"),
        Case(cron: "0 3 * * 7", after: "2026-11-27T00:00:00Z", next: "2026-11-29T03:00:00Z"),
    ])
    func next(_ c: Case) throws {
        #expect(try CronExpression(c.cron).next(after: Self.utc(c.after)) == Self.utc(c.next))
    }

    @Test("malformed expressions are refused with the field that is wrong", arguments: [
        "", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *",
        "* * * FOO *",
    ])
    func malformed(_ text: String) {
        #expect(throws: CronError.self) { try CronExpression(text) }
    }

    @Test("an expression that never matches has no next run")
    func never() throws {
        #expect(try CronExpression("0 0 30 2 *").next(after: Self.utc("2026-01-01T00:00:00Z")) == nil)
    }
}
