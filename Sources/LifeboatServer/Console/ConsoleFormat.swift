import Foundation
import LifeboatOperations

/// How the console writes times, durations and sizes: the same on every page, in UTC.
enum ConsoleFormat {
    static let none = "—"

    static func date(_ date: Date?) -> String {
        guard let date else { return none }
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// A date and how long ago it was: "2026-11-30 02:10:00 (3 h ago)".
    static func dateAndAge(_ date: Date?, now: Date) -> String {
        guard let date else { return none }
        return "\(Self.date(date)) (\(StatusReport.age(max(0, now.timeIntervalSince(date)))) ago)"
    }

    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return none }
        return seconds < 120 ? String(format: "%.1f s", seconds) : StatusReport.age(seconds)
    }

    static func bytes(_ count: Int64?) -> String {
        guard let count else { return none }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// "12 min / 4.0 h": achieved against target.
    static func objective(achieved: Double?, target: Double?) -> String {
        "\(duration(achieved)) / \(duration(target))"
    }

    /// A status's CSS class: good, bad, warn or busy.
    static func statusClass(_ status: String) -> String {
        switch status {
        case "SUCCEEDED", "VERIFIED", "PRESENT": "good"
        case "SUCCEEDED_WITH_WARNINGS", "PENDING", "WAITING_APPROVAL", "SKIPPED", "INTERRUPTED", "CANCELLED": "warn"
        case "RUNNING": "busy"
        default: "bad"
        }
    }
}
