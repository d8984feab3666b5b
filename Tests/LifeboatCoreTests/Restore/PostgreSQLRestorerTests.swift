import Foundation
import Testing

@testable import LifeboatCore

@Suite("PostgreSQLRestorer")
struct PostgreSQLRestorerTests {
    @Test("values written into postgresql.auto.conf keep quotes and backslashes; a socket folder stays one element of its list", arguments: [
        (#"/a/b"#, #"'/a/b'"#), (#"it's"#, #"'it''s'"#), (#"C:\dir\"#, #"'C:\\dir\\'"#), (#"x\' y"#, #"'x\\'' y'"#),
    ])
    func quoting(value: String, quoted: String) {
        #expect(PostgreSQLRestorer.quote(value) == quoted)
    }

    @Test("recovery_target_time keeps the time's precision: milliseconds and microseconds to the digit, a Date's error rounded away", arguments: [
        ("2026-11-27T13:45:46.159Z", "2026-11-27 13:45:46.159000+00"), ("2026-11-27T13:45:46.000001Z", "2026-11-27 13:45:46.000001+00"),
        ("2026-11-27T13:45:46.999999Z", "2026-11-27 13:45:46.999999+00"), ("2026-11-27T23:59:59.9999996Z", "2026-11-28 00:00:00.000000+00"),
        ("2026-11-27T13:45:46Z", "2026-11-27 13:45:46.000000+00"), ("1969-12-31T23:59:59.5Z", "1969-12-31 23:59:59.500000+00"),
    ])
    func timestamp(given: String, written: String) throws {
        // Whole seconds parsed, the fraction added as a Double: the way a time reaches a Date.
        let dot = given.firstIndex(of: ".")
        let whole = try #require(ISO8601.parse(dot.map { String(given[..<$0]) + "Z" } ?? given))
        let fraction = dot.map { Double("0" + given[$0...].dropLast()) ?? 0 } ?? 0
        #expect(PostgreSQLRestorer.timestamp(whole.addingTimeInterval(fraction)) == written)
        // And as the ISO 8601 parser gives it, for times in milliseconds.
        if given.count == "2026-11-27T13:45:46.159Z".count, let parsed = ISO8601.parse(given) {
            #expect(PostgreSQLRestorer.timestamp(parsed) == written)
        }
    }

    @Test("a list element is double-quoted with its quotes doubled")
    func listElement() {
        #expect(PostgreSQLRestorer.listElement(#"/tmp/a b, "c""#) == #""/tmp/a b, ""c""""#)
    }
}
