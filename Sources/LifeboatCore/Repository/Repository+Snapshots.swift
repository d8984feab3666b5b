import Foundation

/// Snapshots: sealed manifests under `snapshots/`, each named by the SHA-256 of its bytes.
extension Repository {
    /// Reads, authenticates and decodes one snapshot.
    /// - Throws: a storage error, or ``RepositoryError`` when it is damaged.
    public func loadSnapshot(_ id: SnapshotID) async throws -> Snapshot {
        let name = ObjectName(.snapshots, id)
        return try JSONCoding.decode(Snapshot.self, from: try await loadSealed(name), what: name.path)
    }

    /// Every readable snapshot, oldest first, and a line for each one that is damaged
    /// (one damaged snapshot must not hide the others).
    public func listSnapshots() async throws -> (snapshots: [SnapshotEntry], damaged: [String]) {
        var out: [SnapshotEntry] = []
        var damaged: [String] = []
        for info in try await backend.list(.snapshots) {
            guard let id = SnapshotID(hex: info.name.name) else { continue }  // not ours: ignored, `check` reports it
            do {
                out.append(SnapshotEntry(id: id, snapshot: try await loadSnapshot(id)))
            } catch let error as StorageError {
                throw error
            } catch {
                damaged.append("snapshot \(id.shortHex): \(error)")
            }
        }
        return (out.sorted { ($0.snapshot.time, $0.id) < ($1.snapshot.time, $1.id) }, damaged)
    }

    /// Every readable snapshot, oldest first; `listSnapshots()` also names the damaged ones.
    public func snapshots() async throws -> [SnapshotEntry] {
        try await listSnapshots().snapshots
    }

    /// Resolves `latest` or a unique prefix of a snapshot id.
    public func findSnapshot(_ reference: String) async throws -> SnapshotEntry {
        let all = try await snapshots()
        if reference == "latest" {
            guard let last = all.last else { throw RepositoryError.snapshotNotFound(reference) }
            return last
        }
        let prefix = reference.lowercased()
        let matches = all.filter { $0.id.hex.hasPrefix(prefix) }
        guard !prefix.isEmpty, let first = matches.first else { throw RepositoryError.snapshotNotFound(reference) }
        guard matches.count == 1 else { throw RepositoryError.ambiguousSnapshot(reference, candidates: matches.count) }
        return first
    }

    func saveSnapshot(_ snapshot: Snapshot, dataKey: DataKey) async throws -> SnapshotID {
        let name = try await saveSealed(JSONCoding.encode(snapshot), kind: .snapshots, dataKey: dataKey)
        return SnapshotID(hex: name.name)!
    }
}
