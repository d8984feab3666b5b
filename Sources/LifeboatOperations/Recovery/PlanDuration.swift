import Foundation

/// A duration as a plan writes it: a whole number and a unit, `30s`, `5m`, `2h`, `90d`
/// (or a bare number of seconds). Keeps its text, so a plan shows as it was written.
public struct PlanDuration: Sendable, Codable, Equatable, CustomStringConvertible {
    public let seconds: Int64
    public let text: String

    public init(seconds: Int64) {
        self.seconds = seconds
        text = Self.format(seconds)
    }

    /// nil when `text` is not a number followed by s, m, h, d or w.
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        if let plain = Int64(t), plain >= 0 {
            seconds = plain
        } else if let last = t.last, let unit = units[last], let n = Int64(t.dropLast()), n >= 0, n <= Int64.max / unit {
            seconds = n * unit
        } else {
            return nil
        }
        self.text = t
    }

    public var duration: Duration { .seconds(seconds) }
    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int64.self), n >= 0 {
            self.init(seconds: n)
            return
        }
        let text = try c.decode(String.self)
        guard let d = PlanDuration(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(text)' is not a duration like 30s, 5m, 2h or 90d")
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }

    /// The largest unit that divides `seconds` exactly.
    public static func format(_ seconds: Int64) -> String {
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds >= size && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
