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
        let (snapshots, damaged) = try await snapshotListing()
        return (snapshots, damaged.map(\.description))
    }

    /// As ``listSnapshots()``, with the damaged ones' ids.
    func snapshotListing() async throws -> (snapshots: [SnapshotEntry], damaged: [DamagedSnapshot]) {
        var out: [SnapshotEntry] = []
        var damaged: [DamagedSnapshot] = []
        for info in try await backend.list(.snapshots) {
            guard let id = SnapshotID(hex: info.name.name) else { continue }  // not ours: ignored, `check` reports it
            do {
                out.append(SnapshotEntry(id: id, snapshot: try await loadSnapshot(id)))
            } catch let error as StorageError {
                throw error
            } catch {
                damaged.append(DamagedSnapshot(id: id, reason: "\(error)"))
            }
        }
        return (out.sorted { ($0.snapshot.time, $0.id) < ($1.snapshot.time, $1.id) }, damaged)
    }

    /// Every readable snapshot, oldest first; `listSnapshots()` also names the damaged ones.
    /// For choosing the newest of some kind, use ``intactSnapshots(latestIntact:)``.
    public func snapshots() async throws -> [SnapshotEntry] {
        try await listSnapshots().snapshots
    }

    /// Every readable snapshot, oldest first, for choosing "the newest" among them.
    ///
    /// Nothing of a damaged snapshot can be read, its time included, so it may be the newest
    /// one: a choice made without it could silently restore an older state (a provider that
    /// damages or rolls back the newest snapshot would go unnoticed). Unless `latestIntact`
    /// says to take the newest intact snapshot anyway, a damaged one is an error.
    /// - Throws: ``RepositoryError/damagedSnapshotsSkipped(_:newestIntact:)`` when a snapshot
    ///   is damaged and `latestIntact` is false; a storage error.
    public func intactSnapshots(latestIntact: Bool) async throws -> [SnapshotEntry] {
        let (all, damaged) = try await snapshotListing()
        if !damaged.isEmpty && !latestIntact {
            throw RepositoryError.damagedSnapshotsSkipped(damaged.map(\.description), newestIntact: all.last?.id.shortHex)
        }
        return all
    }

    /// Resolves `latest` or a unique prefix of a snapshot id.
    ///
    /// A prefix that names a damaged snapshot is reported as damaged, not as unknown.
    /// - Parameter latestIntact: for `latest`, take the newest intact snapshot even when
    ///   some are damaged (see ``intactSnapshots(latestIntact:)``).
    /// - Throws: ``RepositoryError/snapshotNotFound(_:)``, ``RepositoryError/ambiguousSnapshot(_:candidates:)``,
    ///   ``RepositoryError/damaged(_:reason:)``, ``RepositoryError/damagedSnapshotsSkipped(_:newestIntact:)``.
    public func findSnapshot(_ reference: String, latestIntact: Bool = false) async throws -> SnapshotEntry {
        if reference == "latest" {
            guard let last = try await intactSnapshots(latestIntact: latestIntact).last else { throw RepositoryError.snapshotNotFound(reference) }
            return last
        }
        let (all, damaged) = try await snapshotListing()
        let prefix = reference.lowercased()
        let matches = all.filter { $0.id.hex.hasPrefix(prefix) }
        let damagedMatches = damaged.filter { $0.id.hex.hasPrefix(prefix) }
        guard !prefix.isEmpty, matches.count + damagedMatches.count > 0 else { throw RepositoryError.snapshotNotFound(reference) }
        guard matches.count + damagedMatches.count == 1 else {
            throw RepositoryError.ambiguousSnapshot(reference, candidates: matches.count + damagedMatches.count)
        }
        if let broken = damagedMatches.first {
            throw RepositoryError.damaged(ObjectName(.snapshots, broken.id), reason: broken.reason)
        }
        return matches[0]
    }

    func saveSnapshot(_ snapshot: Snapshot, dataKey: DataKey) async throws -> SnapshotID {
        let name = try await saveSealed(JSONCoding.encode(snapshot), kind: .snapshots, dataKey: dataKey)
        return SnapshotID(hex: name.name)!
    }
}

/// A snapshot object that does not open or decode.
public struct DamagedSnapshot: Sendable, CustomStringConvertible {
    public let id: SnapshotID
    public let reason: String

    public var description: String { "snapshot \(id.shortHex): \(reason)" }
}
