import Foundation
import LifeboatCore
import Testing

@Suite("ISO 8601 times")
struct JSONCodingTests {
    @Test("every millisecond of a second comes back as written, and a time between milliseconds rounds to the nearest")
    func millisecondsRoundTrip() throws {
        for ms in 0..<1000 {
            let text = "2026-11-29T23:55:01.\(String(ms + 1000).dropFirst())Z"
            let date = try #require(ISO8601.parse(text))
            #expect(ISO8601.format(date) == text)
        }
        let base = try #require(ISO8601.parse("2026-03-29T01:59:59.000Z"))
        #expect(ISO8601.format(base.addingTimeInterval(0.0004)) == "2026-03-29T01:59:59.000Z")
        #expect(ISO8601.format(base.addingTimeInterval(0.9996)) == "2026-03-29T02:00:00.000Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59.750Z")
        #expect(ISO8601.parse("2026-11-29T23:55:01Z") == ISO8601.parse("2026-11-29T23:55:01.000Z"))
    }
}
