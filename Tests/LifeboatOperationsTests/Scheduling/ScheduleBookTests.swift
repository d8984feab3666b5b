import Foundation
import LifeboatCore
import Testing

@testable import LifeboatOperations

@Suite("ScheduleBook")
struct ScheduleBookTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let start = ISO8601DateFormatter().date(from: "2026-06-06T12:00:00Z")!  // a Saturday

    static func entry(_ type: BackupType, _ cron: String, source: String = "app") throws -> ScheduleEntry {
        ScheduleEntry(job: .backup(source: source, type: type), cron: try CronExpression(cron), timeZone: utc)
    }

    @Test("a FULL that comes while an INCREMENTAL of its source waits replaces it: one run, a FULL")
    func fullWins() throws {
        // INCREMENTAL listed first, so that it is queued first.
        let entries = [try Self.entry(.incremental, "0 2 * * *"), try Self.entry(.full, "0 2 * * 0")]
        var book = ScheduleBook(
            entries: entries, backupRepository: "primary", maxConcurrentJobs: 2, lastRuns: [.backup(source: "app", type: .full): Self.start], now: Self.start)
        let sunday = Self.start.addingTimeInterval(14 * 3600)
        #expect(book.due(at: sunday).map(\.job) == [.backup(source: "app", type: .incremental)])
        #expect(book.queue.map(\.job) == [.backup(source: "app", type: .full)])
        #expect(book.start(at: sunday).count == 1)
        #expect(book.queue.isEmpty)
    }

    @Test("a job due while its source runs waits and runs once however many slots pass")
    func waitsAndRunsOnce() throws {
        var book = ScheduleBook(
            entries: [try Self.entry(.transactionLog, "0 * * * *", source: "db")], backupRepository: "primary", maxConcurrentJobs: 2,
            lastRuns: [.backup(source: "db", type: .transactionLog): Self.start], now: Self.start)
        var at = Self.start.addingTimeInterval(3600)
        book.due(at: at)
        let first = book.start(at: at)
        #expect(first.count == 1)
        for _ in 0..<5 {
            at = at.addingTimeInterval(3600)
            book.due(at: at)
            #expect(book.start(at: at).isEmpty)
        }
        #expect(book.queue.count == 1)
        book.finished(first[0].lane)
        #expect(book.start(at: at).count == 1)
    }

    @Test("a new schedule: a removed entry's waiting run is dropped, a new source never backed up is queued at once, the limit follows")
    func replace() throws {
        let app = try Self.entry(.incremental, "0 2 * * *")
        let db = try Self.entry(.transactionLog, "0 * * * *", source: "db")
        let conf = try Self.entry(.full, "0 3 * * *", source: "conf")
        var book = ScheduleBook(
            entries: [app, db], backupRepository: "primary", maxConcurrentJobs: 1, lastRuns: [app.job: Self.start, db.job: Self.start], now: Self.start)
        let at = Self.start.addingTimeInterval(3600)
        #expect(book.due(at: at).map(\.job) == [db.job])
        let queued = book.replace(entries: [app, conf], maxConcurrentJobs: 3, lastRuns: [app.job: Self.start, db.job: Self.start], now: at)
        #expect(queued.map(\.job) == [conf.job])
        #expect(book.queue.map(\.job) == [conf.job], "db's waiting run is dropped")
        #expect(book.queue.first?.isCatchUp == true)
        #expect(book.maxConcurrentJobs == 3)
        #expect(book.nextWake == ISO8601DateFormatter().date(from: "2026-06-07T02:00:00Z"), "app keeps its slot; db's hourly ones are gone")
        // Without the catalog's history, a new entry waits for its first slot.
        var blind = ScheduleBook(entries: [app], backupRepository: "primary", maxConcurrentJobs: 1, lastRuns: [app.job: Self.start], now: Self.start)
        #expect(blind.replace(entries: [app, conf], maxConcurrentJobs: 1, lastRuns: nil, now: at).isEmpty)
        #expect(blind.queue.isEmpty)
    }
}
