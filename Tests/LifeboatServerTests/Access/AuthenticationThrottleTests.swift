import LifeboatTestSupport
import Testing

@testable import LifeboatServer

/// The count of failed authentications per address, on a ManualClock.
@Suite("AuthenticationThrottle")
struct AuthenticationThrottleTests {
    let clock = ManualClock()

    @Test("an address is blocked after its N-th failure in the window; another address is not")
    func perAddress() {
        let throttle = AuthenticationThrottle(policy: .init(maxFailures: 3, window: .seconds(60)), clock: clock)
        for _ in 0..<2 { throttle.recordFailure("192.0.2.1") }
        #expect(throttle.retryAfter("192.0.2.1") == nil)
        clock.advance(by: .seconds(10))
        throttle.recordFailure("192.0.2.1")
        #expect(throttle.retryAfter("192.0.2.1") == .seconds(50))
        #expect(throttle.retryAfter("192.0.2.2") == nil)
        throttle.recordFailure("192.0.2.2")
        #expect(throttle.retryAfter("192.0.2.2") == nil)
        clock.advance(by: .seconds(50))
        #expect(throttle.retryAfter("192.0.2.1") == nil)
    }

    @Test("failures that keep coming keep the address blocked, for a window after the newest ones")
    func sustained() {
        let throttle = AuthenticationThrottle(policy: .init(maxFailures: 2, window: .seconds(30)), clock: clock)
        for _ in 0..<5 {
            throttle.recordFailure("a")
            clock.advance(by: .seconds(10))
        }
        // Failures at 0, 10, 20, 30, 40 s; now 50 s: those at 30 and 40 s count.
        #expect(throttle.retryAfter("a") == .seconds(10))
        clock.advance(by: .seconds(10))
        #expect(throttle.retryAfter("a") == nil)
    }

    @Test("the table of addresses stays bounded")
    func bounded() {
        let throttle = AuthenticationThrottle(policy: .init(maxFailures: 2, window: .seconds(60), maxAddresses: 100), clock: clock)
        throttle.recordFailure("early")
        throttle.recordFailure("early")
        clock.advance(by: .seconds(1))
        for i in 0..<500 { throttle.recordFailure("198.51.100.\(i)") }
        #expect(throttle.addressCount <= 101)
        // The quietest address went first; the newest ones are still counted.
        #expect(throttle.retryAfter("early") == nil)
        clock.advance(by: .seconds(1))
        throttle.recordFailure("fresh")
        throttle.recordFailure("fresh")
        #expect(throttle.retryAfter("fresh") != nil)
        #expect(throttle.addressCount <= 100)
    }
}
