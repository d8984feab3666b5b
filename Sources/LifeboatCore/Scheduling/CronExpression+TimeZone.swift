import Foundation

extension CronExpression {
    /// The first instant strictly after `date` at which the expression fires on the wall
    /// clock of `timeZone`.
    ///
    /// Each matching local minute fires once, at its first instant: on a spring-forward day a
    /// time that does not exist (02:30 in Europe/Berlin on the last Sunday of March) fires at
    /// the first valid instant after the gap (03:00 local); on a fall-back day a time that
    /// exists twice fires at its first occurrence only. The cost of that rule is that an
    /// hourly expression leaves a two-hour gap over the repeated hour rather than firing twice
    /// at the same wall-clock time.
    /// - Returns: nil if the expression matches no day within five years.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        // Wall-clock times are handled as if they were UTC instants, by the UTC walk of
        // next(after:); each is then mapped to its first real instant. That map never goes
        // backwards as the wall time advances, so the walk may start at `date`'s own wall time.
        var wall = date.addingTimeInterval(TimeInterval(timeZone.secondsFromGMT(for: date)))
        // A few steps at most: only wall times of a repeated hour can map to instants before `date`.
        for _ in 0..<2_000 {
            guard let candidate = next(after: wall) else { return nil }
            let instant = Self.firstInstant(ofWallTime: candidate, in: timeZone)
            if instant > date { return instant }
            wall = candidate
        }
        return nil
    }

    /// The first instant whose wall-clock reading in `timeZone` is `wall` (given as if UTC),
    /// or the end of the gap when a forward transition skips it.
    static func firstInstant(ofWallTime wall: Date, in timeZone: TimeZone) -> Date {
        let w = wall.timeIntervalSince1970.rounded()
        // The offsets in force on either side of any transition near this wall time.
        let before = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: w - 86_400))
        let after = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: w + 86_400))
        let valid = Set([before, after]).map { w - Double($0) }.filter {
            Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: $0))) == w - $0
        }
        if let first = valid.min() { return Date(timeIntervalSince1970: first) }
        // A gap: the transition lies between the instant read with the new offset and the one
        // read with the old; search it to the second.
        var low = w - Double(max(before, after))
        var high = w - Double(min(before, after))
        let offsetAtLow = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: low))
        while high - low > 1 {
            let middle = ((low + high) / 2).rounded(.down)
            if timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: middle)) == offsetAtLow { low = middle } else { high = middle }
        }
        return Date(timeIntervalSince1970: high)
    }
}
