import Foundation

/// The one JSON dialect of the repository: sorted keys (so equal values encode to equal
/// bytes, which makes tree blobs deduplicate), ISO 8601 dates with fractional seconds.
package enum JSONCoding {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(ISO8601.format(date))
        }
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            guard let date = ISO8601.parse(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 time: \(s)")
            }
            return date
        }
        return d
    }

    package static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        // `try!`: our Codable types encode plain values only, which cannot fail.
        Array(try! encoder().encode(value))
    }

    package static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>, what: String) throws -> T {
        do {
            return try decoder().decode(T.self, from: Data(bytes))
        } catch {
            throw RepositoryError.undecodable(what: what, reason: "\(error)")
        }
    }
}

/// ISO 8601 with fractional seconds in UTC, the only time format Lifeboat writes.
public enum ISO8601 {
    /// Rounded to the nearest millisecond here: Foundation's formatter truncates, and half of
    /// the times it parses from `.mmmZ` are a hair below that millisecond as a `Date`, so they
    /// came back 1 ms early (`.005Z` as `.004Z`), and a point-in-time target moved.
    public static func format(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        let seconds = (milliseconds / 1000).rounded(.down)
        let whole = Date(timeIntervalSince1970: seconds).formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
        return "\(whole.dropLast())." + String(Int(milliseconds - seconds * 1000) + 1000).dropFirst() + "Z"
    }

    public static func parse(_ s: String) -> Date? {
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt).parse(s) { return d }
        return try? Date.ISO8601FormatStyle(timeZone: .gmt).parse(s)
    }
}
