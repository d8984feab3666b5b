import Foundation

/// `manifest.json` on removable media and in air-gapped bundles: what the medium holds, so
/// that it can be checked alone, later, on another machine, without the passphrase.
public struct MediumManifest: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var sha256: String
        public var sizeBytes: Int
        public var written: Date
    }

    public var format = "lifeboat-medium-manifest"
    public var version = 1
    public var label: String
    public var repository: String
    public var created: Date
    public var updated: Date
    /// Snapshot ids the medium is meant to carry (all of them for a full copy).
    public var snapshots: [String]
    /// Object path -> SHA-256 and size.
    public var objects: [String: Entry]

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

    public static func load(from backend: any StorageBackend) async throws -> MediumManifest? {
        guard try await backend.exists(.manifest) else { return nil }
        return try JSONCoding.decode(MediumManifest.self, from: try await backend.read(.manifest), what: "manifest.json")
    }

    public func save(to backend: any StorageBackend) async throws {
        try await backend.write(.manifest, bytes: JSONCoding.encode(self), overwrite: true)
    }

    /// Checks the medium against the manifest, reading every object: each listed object is
    /// there with its size and SHA-256, and nothing is there unlisted.
    public func verify(_ backend: any StorageBackend) async throws -> CheckReport {
        var report = CheckReport()
        var seen = Set<String>()
        for kind in Self.kinds {
            for info in try await backend.list(kind) {
                seen.insert(info.name.path)
                report.objectsChecked += 1
                guard let entry = objects[info.name.path] else {
                    report.errors.append("\(info.name) is on the medium but not in its manifest")
                    continue
                }
                let bytes = try await backend.read(info.name)
                report.bytesRead += Int64(bytes.count)
                if bytes.count != entry.sizeBytes || Digest256.sha256(bytes).hex != entry.sha256 {
                    report.errors.append("\(info.name) does not match its manifest entry: it is damaged")
                }
            }
        }
        for path in objects.keys.sorted() where !seen.contains(path) {
            report.errors.append("\(path) is in the manifest but missing from the medium")
        }
        return report
    }
}
