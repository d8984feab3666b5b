import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

/// The live daemon tests rely on QuietTimeZone: whatever hour they run at, a daily 02:00
/// schedule must not fall due while they do.
@Suite("QuietTimeZone")
struct QuietTimeZoneTests {
    @Test("at every hour of the day, the next 02:00 in the chosen zone is at least 10 hours away", arguments: 0..<24)
    func farFromDue(hour: Int) throws {
        let now = Date(timeIntervalSince1970: 1_795_996_800 + Double(hour) * 3600 + 1799)
        let name = QuietTimeZone.awayFrom(hour: 2, now: now)
        let zone = try #require(TimeZone(identifier: name), "\(name)")
        let due = try #require(try CronExpression("0 2 * * *").next(after: now, in: zone))
        #expect(due.timeIntervalSince(now) >= 10 * 3600, "\(name): \(due)")
    }
}
