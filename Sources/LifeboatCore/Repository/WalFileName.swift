/// A position in PostgreSQL's write-ahead log, written `X/Y` (two hex numbers, the high
/// and low 32 bits).
public struct LSN: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Parses `16/B374D848`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...8).contains(parts[0].count), (1...8).contains(parts[1].count),
            let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16)
        else { return nil }
        value = high << 32 | low
    }

    public var description: String { String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true) }

    public static func < (a: LSN, b: LSN) -> Bool { a.value < b.value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let lsn = LSN(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an LSN: \(text)"))
        }
        self = lsn
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// The name of a file PostgreSQL archives: a WAL segment (`TTTTTTTTXXXXXXXXYYYYYYYY`:
/// timeline, then the segment number split in two), a timeline history file
/// (`TTTTTTTT.history`), a backup history file (`<segment>.XXXXXXXX.backup`) or a partial
/// segment (`<segment>.partial`). Stored as `wal/<timeline>/<name>`.
public struct WalFileName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let name: String
    public let timeline: UInt32

    /// nil for anything that is not one of PostgreSQL's archive file names, which also
    /// keeps `/`, `..` and other path tricks out of object names (the syntax is
    /// ``ObjectName/isWalFileName(_:)``, the one every `wal/` listing is checked against).
    public init?(_ name: String) {
        guard ObjectName.isWalFileName(name), let timeline = UInt32(name.prefix(8), radix: 16) else { return nil }
        self.name = name
        self.timeline = timeline
    }

    /// The segment holding byte `segmentNumber * segmentBytes` of the log.
    public init(timeline: UInt32, segmentNumber: UInt64, segmentBytes: UInt64) {
        let perId = 0x1_0000_0000 / segmentBytes
        name = Self.hex8(UInt64(timeline)) + Self.hex8(segmentNumber / perId) + Self.hex8(segmentNumber % perId)
        self.timeline = timeline
    }

    /// A whole segment (not a history, backup or partial file).
    public var isSegment: Bool { name.count == 24 }

    /// The segment number of a segment file; nil for the other kinds.
    public func segmentNumber(segmentBytes: UInt64) -> UInt64? {
        guard isSegment, let high = UInt64(name.dropFirst(8).prefix(8), radix: 16), let low = UInt64(name.suffix(8), radix: 16) else { return nil }
        return high * (0x1_0000_0000 / segmentBytes) + low
    }

    public var objectName: ObjectName {
        do {
            return try ObjectName(.wal, "\(Self.hex8(UInt64(timeline)))/\(name)")
        } catch {
            preconditionFailure("a WalFileName is a valid WAL object name by construction: \(error)")
        }
    }

    public var description: String { name }

    public static func < (a: WalFileName, b: WalFileName) -> Bool { a.name < b.name }

    static func hex8(_ v: UInt64) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}
