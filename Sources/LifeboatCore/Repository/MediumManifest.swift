import Foundation

/// `manifest.json` on removable media and in air-gapped bundles: what the medium holds, so
/// that it can be checked alone, later, on another machine, without the passphrase.
///
/// It lives with the repository, not with the storage: it names the repository and the
/// snapshots the medium carries, and a storage backend knows only named objects. Its
/// check against the medium is in `Verification/` (``verify(_:)``).
public struct MediumManifest: Codable, Sendable, Equatable {
    /// One object on the medium, as it was when it was written there.
    public struct Entry: Codable, Sendable, Equatable {
        /// The object's SHA-256, hex.
        public var sha256: String
        /// The object's size.
        public var sizeBytes: Int
        /// When it was recorded in the manifest.
        public var written: Date
    }

    /// Always `lifeboat-medium-manifest`.
    public var format = "lifeboat-medium-manifest"
    /// The manifest's format version.
    public var version = 1
    /// The medium's label, as the configuration names it.
    public var label: String
    /// The id of the repository the medium holds a copy of.
    public var repository: String
    /// When the manifest was first written.
    public var created: Date
    /// When objects were last recorded.
    public var updated: Date
    /// Snapshot ids the medium is meant to carry (all of them for a full copy).
    public var snapshots: [String]
    /// Object path -> SHA-256 and size.
    public var objects: [String: Entry]

    /// An empty manifest for a medium that holds nothing yet.
    public init(label: String, repository: String, created: Date) {
        self.label = label
        self.repository = repository
        self.created = created
        self.updated = created
        self.snapshots = []
        self.objects = [:]
    }

    static let kinds: [ObjectKind] = [.config, .keys, .dataKeys, .data, .index, .snapshots, .wal]

    /// Adds every object the medium holds and the manifest lacks; content-addressed objects
    /// are recorded by name (the replicator has checked them), the others are hashed.
    public mutating func record(_ backend: any StorageBackend, now: Date = Date()) async throws {
        for kind in Self.kinds {
            for info in try await backend.list(kind) where objects[info.name.path] == nil {
                let sha = ObjectKind.contentAddressed.contains(kind) ? info.name.name : Digest256.sha256(try await backend.read(info.name)).hex
                objects[info.name.path] = Entry(sha256: sha, sizeBytes: info.sizeBytes, written: now)
            }
        }
        updated = now
    }

    /// The medium's manifest, or nil when it has none yet.
    public static func load(from backend: any StorageBackend) async throws -> MediumManifest? {
        guard try await backend.exists(.manifest) else { return nil }
        return try JSONCoding.decode(MediumManifest.self, from: try await backend.read(.manifest), what: "manifest.json")
    }

    /// Writes the manifest over the medium's previous one.
    public func save(to backend: any StorageBackend) async throws {
        try await backend.write(.manifest, bytes: JSONCoding.encode(self), overwrite: true)
    }
}
