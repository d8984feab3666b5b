import Foundation

/// The kinds of object a repository holds, one folder each (repository format §layout).
public enum ObjectKind: String, CaseIterable, Sendable {
    case config
    case keys
    case dataKeys = "datakeys"
    case data
    case index
    case snapshots
    case locks
    case wal
    /// `manifest.json` of removable media and air-gapped bundles: every object with its SHA-256.
    case manifest

    /// Kinds whose objects are named by the SHA-256 of their bytes, so that their
    /// integrity can be checked without any key.
    public static let contentAddressed: [ObjectKind] = [.keys, .dataKeys, .data, .index, .snapshots]

    /// Kinds whose names are 64 lowercase hex digits: the content-addressed ones, and locks
    /// (32 random bytes).
    public var isNamedByDigest: Bool { Self.contentAddressed.contains(self) || self == .locks }

    /// The largest object any kind holds: a pack of the largest target (1 GiB) and its last
    /// blob, or a sealed 1 GiB WAL segment. A location offering more to read whole (a sparse
    /// file, a server's answer) is refused rather than allocated.
    public static let maxObjectBytes = (1 << 30) + (128 << 20)

    /// Kinds that are a folder of objects (all but `config` and `manifest.json`).
    public var isFolder: Bool { self != .config && self != .manifest }
}

/// The name of one object in a storage location. Storage moves named bytes and knows
/// nothing of what they mean.
///
/// A name is valid for its kind by construction: 64 lowercase hex digits for the kinds
/// named by a digest, `TTTTTTTT/<PostgreSQL archive file name>` for `wal`, nothing for
/// `config` and `manifest.json`. Names that come from storage (a listing, a manifest) are
/// hostile input: they can only become an `ObjectName` through the throwing initializer,
/// so `path` never holds `..`, an absolute path or any folder but its kind's, whatever a
/// location lists.
public struct ObjectName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let kind: ObjectKind
    /// The file name within its kind; empty only for `config` and `manifest.json`.
    public let name: String

    private init(unchecked kind: ObjectKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    /// A name checked against its kind's syntax.
    /// - Throws: ``StorageError/invalidName(_:_:reason:)`` when `name` is not a valid name for `kind`.
    public init(_ kind: ObjectKind, _ name: String) throws(StorageError) {
        if let reason = Self.problem(kind, name) { throw StorageError.invalidName(kind, name, reason: reason) }
        self.init(unchecked: kind, name)
    }

    /// The name of an object of a kind named by a digest (`kind.isNamedByDigest`).
    public init(_ kind: ObjectKind, _ digest: Digest256) {
        precondition(kind.isNamedByDigest, "\(kind) objects are not named by a digest")
        self.init(unchecked: kind, digest.hex)
    }

    /// The name of an object named by an identifier (a pack, a snapshot).
    public init(_ kind: ObjectKind, _ id: some DigestIdentifier) {
        self.init(kind, id.digest)
    }

    public static let config = ObjectName(unchecked: .config, "")
    public static let manifest = ObjectName(unchecked: .manifest, "")

    /// The relative path: `config`, `data/<first two characters>/<name>`, or `<kind>/<name>`.
    public var path: String {
        switch kind {
        case .config: return "config"
        case .manifest: return "manifest.json"
        case .data: return "data/\(name.prefix(2))/\(name)"
        default: return "\(kind.rawValue)/\(name)"
        }
    }

    public var description: String { path }

    public static func < (a: ObjectName, b: ObjectName) -> Bool { a.path < b.path }

    // MARK: - Syntax

    /// Why `name` is not a valid name for `kind`; nil when it is.
    static func problem(_ kind: ObjectKind, _ name: String) -> String? {
        switch kind {
        case .config, .manifest:
            return name.isEmpty ? nil : "\(kind.rawValue) has no name of its own"
        case .wal:
            let utf8 = Array(name.utf8)
            guard utf8.count > 9, utf8[8] == UInt8(ascii: "/") else { return "not <timeline>/<file>" }
            let timeline = utf8[0..<8]
            guard timeline.allSatisfy(isUpperHex) else { return "the timeline folder is not 8 uppercase hex digits" }
            let file = String(decoding: utf8[9...], as: UTF8.self)
            guard isWalFileName(file) else { return "not a file name PostgreSQL archives" }
            guard utf8[9..<17].elementsEqual(timeline) else { return "the file is not in its timeline's folder" }
            return nil
        default:
            return isLowercaseHexDigest(name) ? nil : "not 64 lowercase hex digits"
        }
    }

    /// Exactly 64 lowercase hex digits, as object names spell a digest.
    public static func isLowercaseHexDigest(_ s: String) -> Bool {
        let utf8 = s.utf8
        return utf8.count == 64 && utf8.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
    }

    /// One of the names PostgreSQL archives: a segment (`TTTTTTTTXXXXXXXXYYYYYYYY`), a
    /// timeline history file (`TTTTTTTT.history`), a backup history file
    /// (`<segment>.XXXXXXXX.backup`) or a partial segment (`<segment>.partial`), hex in
    /// uppercase. None holds `/` or `..`.
    public static func isWalFileName(_ name: String) -> Bool {
        let c = Array(name.utf8)
        func isHex(_ range: Range<Int>) -> Bool { range.upperBound <= c.count && c[range].allSatisfy(isUpperHex) }
        switch c.count {
        case 24: return isHex(0..<24)
        case 16: return isHex(0..<8) && name.hasSuffix(".history")
        case 32: return isHex(0..<24) && name.hasSuffix(".partial")
        case 40: return isHex(0..<24) && c[24] == UInt8(ascii: ".") && isHex(25..<33) && name.hasSuffix(".backup")
        default: return false
        }
    }

    private static func isUpperHex(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"))
    }

    // MARK: - Keys found in a listing

    /// What a key found under a kind's folder is: `relative` is the key's path below
    /// `<kind>/` (`ab/<hex>` for a pack, `00000001/<file>` for WAL, `<hex>` otherwise).
    static func classify(_ kind: ObjectKind, relative: String) -> ListedKey {
        let components = relative.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: { $0 == "." || $0 == ".." }) { return .invalid("it leads out of its folder") }
        if components.contains(where: \.isEmpty) { return .invalid("an empty path component") }
        // Temporary files of a writer (repository format §13): never objects, never errors.
        if components.contains(where: { $0.hasPrefix(".") }) { return .temporary }
        let name: String
        switch kind {
        case .data:
            guard components.count == 2 else { return .invalid("packs are data/<xx>/<name>") }
            guard components[1].hasPrefix(components[0]), components[0].utf8.count == 2 else {
                return .invalid("a pack outside the folder of its first two digits")
            }
            name = String(components[1])
        case .wal:
            guard components.count == 2 else { return .invalid("WAL files are wal/<timeline>/<file>") }
            name = relative
        default:
            guard components.count == 1 else { return .invalid("a folder where \(kind.rawValue) has none") }
            name = relative
        }
        if let reason = problem(kind, name) { return .invalid(reason) }
        return .object(ObjectName(unchecked: kind, name))
    }

    /// A key as it may be shown: printable ASCII as it is, every other byte (and `\` and
    /// `'`) as `\xNN`, so that a hostile name cannot move a terminal's cursor or forge a line.
    public static func escaped(_ bytes: some Sequence<UInt8>) -> String {
        var out = ""
        for b in bytes {
            if b >= 0x20 && b < 0x7f && b != UInt8(ascii: "\\") && b != UInt8(ascii: "'") {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = String(b, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

/// What one key of a listing turned out to be.
enum ListedKey: Equatable {
    case object(ObjectName)
    /// A writer's temporary file: skipped, as the format says.
    case temporary
    /// Not a name of its kind: never used, reported.
    case invalid(String)
}

/// An object found by listing a location.
public struct ObjectInfo: Sendable, Hashable {
    public let name: ObjectName
    public let sizeBytes: Int
    /// When the location last changed it, as far as it tells (file mtime, S3 LastModified);
    /// nil when the backend cannot say.
    public let modified: Date?

    public init(name: ObjectName, sizeBytes: Int, modified: Date? = nil) {
        self.name = name
        self.sizeBytes = sizeBytes
        self.modified = modified
    }
}
