import Foundation
import Synchronization

/// A wall-clock time that moves only when the test says: for what is stamped with a date
/// (token expiry, last use, audit events) rather than waited on (``ManualClock``).
public final class ManualWallClock: Sendable {
    private let date: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        date = Mutex(start)
    }

    public var now: Date { date.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        date.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
