/// Names from a snapshot made safe to print on a terminal: a file name may hold any byte
/// but `/` and NUL, and printed raw a newline forges a line of output and an escape
/// sequence drives the terminal. Control characters are escaped as `ls -b` and Go's `%q`
/// do (`\n`, `\t`, `\x1b`), a backslash doubles so the escaping reads back unambiguously;
/// JSON output carries the exact name instead (JSON escapes controls itself).
enum TerminalText {
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{00}"..."\u{1f}", "\u{7f}":
                out += "\\x" + hex(scalar.value, digits: 2)
            case "\u{80}"..."\u{9f}", "\u{2028}", "\u{2029}", "\u{202a}"..."\u{202e}", "\u{2066}"..."\u{2069}":
                // C1 controls, line separators and bidirectional overrides: they move or reorder what follows.
                out += "\\u{" + hex(scalar.value, digits: 4) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let h = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - h.count)) + h
    }
}
