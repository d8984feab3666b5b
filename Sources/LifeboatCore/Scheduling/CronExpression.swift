import Foundation

/// A five-field cron expression (minute, hour, day of month, month, day of week) as the
/// schedules of `lifeboat.yaml` write them: `*`, numbers, ranges `a-b`, steps `*/n` and
/// `a-b/n`, lists `a,b`, month and weekday names (`JAN`, `SUN`), weekday 7 as Sunday, and
/// the macros `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`. As in Vixie cron, when
/// both day fields are restricted a day matches either one. Times are UTC.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday.
    public let daysOfWeek: Set<Int>
    let isDayOfMonthRestricted: Bool
    let isDayOfWeekRestricted: Bool
    public let description: String

    /// - Throws: ``CronError`` naming the field and what it expected.
    public init(_ text: String) throws {
        let macros = ["@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *",
            "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = macros[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else { throw CronError.fieldCount(text, fields.count) }
        minutes = try Self.parse(fields[0], name: "minute", range: 0...59, names: [:])
        hours = try Self.parse(fields[1], name: "hour", range: 0...23, names: [:])
        daysOfMonth = try Self.parse(fields[2], name: "day of month", range: 1...31, names: [:])
        let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        months = try Self.parse(fields[3], name: "month", range: 1...12, names: Dictionary(uniqueKeysWithValues: monthNames.enumerated().map { ($1, $0 + 1) }))
        let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        let weekdays = try Self.parse(fields[4], name: "day of week", range: 0...7, names: Dictionary(uniqueKeysWithValues: dayNames.enumerated().map { ($1, $0) }))
        daysOfWeek = Set(weekdays.map { $0 % 7 })
        isDayOfMonthRestricted = !fields[2].hasPrefix("*")
        isDayOfWeekRestricted = !fields[4].hasPrefix("*")
        description = trimmed
    }

    private static func parse(_ field: String, name: String, range: ClosedRange<Int>, names: [String: Int]) throws -> Set<Int> {
        var out = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw CronError.badField(name, field) }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else { throw CronError.badField(name, field) }
                step = s
            }
            var low = range.lowerBound
            var high = range.upperBound
            if pieces[0] != "*" {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw CronError.badField(name, field) }
                func value(_ s: Substring) throws -> Int {
                    if let v = Int(s) ?? names[s.uppercased()], range.contains(v) { return v }
                    throw CronError.outOfRange(name, String(s), range)
                }
                low = try value(bounds[0])
                // `5/15` means 5, 20, 35, 50: from 5 to the end of the range.
                high = bounds.count == 2 ? try value(bounds[1]) : (pieces.count == 2 ? range.upperBound : low)
                guard low <= high else { throw CronError.badField(name, field) }
            }
            out.formUnion(stride(from: low, through: high, by: step))
        }
        return out
    }

    /// Whether a day matches the two day fields (either one when both are restricted).
    func matchesDay(dayOfMonth: Int, dayOfWeek: Int) -> Bool {
        let dom = daysOfMonth.contains(dayOfMonth)
        let dow = daysOfWeek.contains(dayOfWeek)
        if isDayOfMonthRestricted && isDayOfWeekRestricted { return dom || dow }
        return dom && dow
    }

    /// The first matching minute strictly after `date` (UTC), or nil if none within 5 years
    /// (only for expressions such as `0 0 30 2 *` that never match).
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = calendar.date(bySetting: .second, value: 0, of: date.addingTimeInterval(60)) ?? date
        var c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: start)
        if calendar.date(from: c)! <= date { c.minute! += 1 }
        let limitYear = c.year! + 5
        while c.year! <= limitYear {
            guard let day = calendar.date(from: DateComponents(year: c.year, month: c.month, day: c.day)) else { return nil }
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if !months.contains(parts.month!) {
                // The first day of the next month.
                c = DateComponents(year: parts.month! == 12 ? parts.year! + 1 : parts.year!, month: parts.month! % 12 + 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if matchesDay(dayOfMonth: parts.day!, dayOfWeek: parts.weekday! - 1) {
                for hour in hours.sorted() where hour >= c.hour! {
                    let fromMinute = hour == c.hour! ? c.minute! : 0
                    if let minute = minutes.sorted().first(where: { $0 >= fromMinute }) {
                        return calendar.date(from: DateComponents(year: parts.year, month: parts.month, day: parts.day, hour: hour, minute: minute))
                    }
                }
            }
            let tomorrow = calendar.date(byAdding: .day, value: 1, to: day)!
            c = calendar.dateComponents([.year, .month, .day], from: tomorrow)
            c.hour = 0
            c.minute = 0
        }
        return nil
    }
}

public enum CronError: Error, Sendable, CustomStringConvertible, Equatable {
    case fieldCount(String, Int)
    case badField(String, String)
    case outOfRange(String, String, ClosedRange<Int>)

    public var description: String {
        switch self {
        case .fieldCount(let text, let n):
            return "'\(text)' has \(n) fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or is @hourly, @daily, @weekly, @monthly or @yearly"
        case .badField(let name, let field):
            return "the \(name) field '\(field)' is not *, a number, a range a-b, a step */n or a-b/n, or a list of those"
        case .outOfRange(let name, let value, let range):
            return "the \(name) '\(value)' is outside \(range.lowerBound)-\(range.upperBound)"
        }
    }
}
