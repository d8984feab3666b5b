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
}

/// The name of one object in a storage location. Storage moves named bytes and knows
/// nothing of what they mean.
public struct ObjectName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let kind: ObjectKind
    /// The file name within its kind; empty only for `config`.
    public let name: String

    public init(_ kind: ObjectKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    public static let config = ObjectName(.config, "")
    public static let manifest = ObjectName(.manifest, "")

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
}

/// An object found by listing a location.
public struct ObjectInfo: Sendable, Hashable {
    public let name: ObjectName
    public let sizeBytes: Int

    public init(name: ObjectName, sizeBytes: Int) {
        self.name = name
        self.sizeBytes = sizeBytes
    }
}
