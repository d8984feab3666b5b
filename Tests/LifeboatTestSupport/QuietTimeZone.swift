import Foundation

/// A time zone for a live daemon's `server.timeZone` in which the schedules a test writes
/// (daily at 02:00) are about twelve hours away, whenever the test runs: a run that crosses
/// 02:00 UTC must not see a scheduled backup the test did not ask for.
public enum QuietTimeZone {
    /// The `Etc/GMT±N` zone in which `hour` o'clock is 11 to 13 hours from `now`.
    public static func awayFrom(hour: Int, now: Date = Date()) -> String {
        let utcHour = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: now).hour ?? 0
        // The zone's offset puts the local clock near hour + 12; Etc names run UTC-12…UTC+14.
        var offset = ((hour + 12 - utcHour) % 24 + 24) % 24
        if offset > 14 { offset -= 24 }
        // Etc/GMT's sign is POSIX's: Etc/GMT-5 is five hours ahead of UTC.
        if offset == 0 { return "UTC" }
        return offset > 0 ? "Etc/GMT-\(offset)" : "Etc/GMT+\(-offset)"
    }
}
