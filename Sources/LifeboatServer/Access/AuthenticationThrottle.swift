import Hummingbird
import Synchronization

/// Slows down guessing of tokens: after `maxFailures` failed authentications from one
/// address within `window`, that address's requests that carry a token are refused (429)
/// until the oldest of those failures leaves the window. Other addresses are unaffected.
///
/// Time is read from the injected clock, so a test moves it with a ManualClock. The state is
/// a few instants per address, under a Mutex: it is touched once per request that carries
/// a token.
public final class AuthenticationThrottle: Sendable {
    /// How many failures, in what window, block an address.
    public struct Policy: Sendable {
        public var maxFailures: Int
        public var window: Duration
        /// Addresses remembered at most: beyond it, those whose failures have all left the
        /// window are forgotten, then the quietest ones, so that a flood of addresses cannot
        /// grow the table without bound.
        public var maxAddresses: Int

        /// The default: 10 failures in 60 s.
        public init(maxFailures: Int = 10, window: Duration = .seconds(60), maxAddresses: Int = 10_000) {
            self.maxFailures = maxFailures
            self.window = window
            self.maxAddresses = maxAddresses
        }
    }

    let policy: Policy
    /// Time since the throttle was made, on its clock.
    private let elapsed: @Sendable () -> Duration
    private let failures = Mutex<[String: [Duration]]>([:])

    init(policy: Policy = Policy(), clock: any Clock<Duration>) {
        self.policy = policy
        elapsed = Self.stopwatch(clock)
    }

    private static func stopwatch<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let start = clock.now
        return { start.duration(to: clock.now) }
    }

    /// How long `address` must wait before its next attempt; nil when it may try now.
    func retryAfter(_ address: String) -> Duration? {
        let now = elapsed()
        return failures.withLock { table in
            let recent = Self.recent(table[address] ?? [], now: now, window: policy.window)
            table[address] = recent.isEmpty ? nil : recent
            guard recent.count >= policy.maxFailures, let oldest = recent.first else { return nil }
            return oldest + policy.window - now
        }
    }

    /// The 429 for `address` while it must wait (Retry-After in whole seconds, rounded up),
    /// noted for the audit trail; nil when it may try now. The API's bearer tokens and the
    /// console's login form answer with it alike.
    func refusal(_ address: String) -> HTTPError? {
        guard let wait = retryAfter(address) else { return nil }
        AuditNote.current?.refusal = "too many failed authentications from \(address)"
        let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
        return HTTPError(
            .tooManyRequests, headers: [.retryAfter: "\(seconds)"],
            message: "too many failed authentications from \(address): try again in \(seconds) s")
    }

    /// How many addresses are remembered (for the test of the bound).
    var addressCount: Int { failures.withLock { $0.count } }

    /// Remembers a failed authentication from `address`.
    func recordFailure(_ address: String) {
        let now = elapsed()
        failures.withLock { table in
            var recent = Self.recent(table[address] ?? [], now: now, window: policy.window)
            recent.append(now)
            // Only the newest failures that can still block matter.
            if recent.count > policy.maxFailures { recent.removeFirst(recent.count - policy.maxFailures) }
            table[address] = recent
            if table.count > policy.maxAddresses { Self.shrink(&table, now: now, policy: policy) }
        }
    }

    private static func recent(_ instants: [Duration], now: Duration, window: Duration) -> [Duration] {
        instants.filter { now - $0 < window }
    }

    private static func shrink(_ table: inout [String: [Duration]], now: Duration, policy: Policy) {
        table = table.compactMapValues { instants in
            let recent = recent(instants, now: now, window: policy.window)
            return recent.isEmpty ? nil : recent
        }
        guard table.count > policy.maxAddresses else { return }
        let quietest = table.sorted { ($0.value.last ?? .zero) < ($1.value.last ?? .zero) }.prefix(table.count - policy.maxAddresses)
        for (address, _) in quietest { table[address] = nil }
    }
}
