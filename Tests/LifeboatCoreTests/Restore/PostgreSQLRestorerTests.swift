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

    @Test("a list element is double-quoted with its quotes doubled")
    func listElement() {
        #expect(PostgreSQLRestorer.listElement(#"/tmp/a b, "c""#) == #""/tmp/a b, ""c""""#)
    }
}
