import Foundation

/// The keys lifeboat.yaml may use, checked as each part of it is decoded: a mistyped key
/// (`retenion`) is an error naming the nearest known one, never a setting silently
/// ignored. Each part lists its keys as its `CodingKeys`, so a key added there is known
/// here too.
enum ConfigurationKeys {
    /// Any key the YAML holds, to list what a mapping has beyond what a part reads.
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// A key no part of the configuration knows, found where `codingPath` says.
    struct Unknown: Error {
        var codingPath: [any CodingKey]
        var key: String
        /// What the mapping is ("a location", "retention").
        var part: String
        var known: [String]

        /// The known key nearest to the mistyped one, when one is near enough to be meant.
        var suggestion: String? { ConfigurationKeys.nearest(to: key, among: known) }
    }

    /// The known key with the fewest edits from `key` (case aside), if it is within a third
    /// of the key's length (at least 2): `retenion` -> `retention`, `keepdaily` -> `keepDaily`.
    static func nearest(to key: String, among known: [String]) -> String? {
        let scored = known.map { ($0, distance(Array(key.lowercased()), Array($0.lowercased()))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, key.count / 3) ? best.0 : nil
    }

    /// Levenshtein distance, with a swap of neighbours counted as one edit.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}

extension Decoder {
    /// Throws ``ConfigurationKeys/Unknown`` for the first key of this mapping that `Keys`
    /// does not list.
    /// - Parameter part: what the mapping is, for the message ("a location").
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type, part: String) throws {
        let present = try container(keyedBy: ConfigurationKeys.AnyKey.self).allKeys.map(\.stringValue)
        let known = Keys.allCases.map(\.stringValue)
        if let unknown = present.first(where: { !known.contains($0) }) {
            throw ConfigurationKeys.Unknown(codingPath: codingPath, key: unknown, part: part, known: known)
        }
    }
}
