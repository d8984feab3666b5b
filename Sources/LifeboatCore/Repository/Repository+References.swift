/// A set that a walk of a snapshot's trees adds the blobs it needs to.
protocol BlobCollection {
    /// Adds `id` (a blob of `index`). - Returns: whether it was not there before.
    mutating func insert(_ id: BlobID, of index: MasterIndex) -> Bool
}

extension Set<BlobID>: BlobCollection {
    mutating func insert(_ id: BlobID, of index: MasterIndex) -> Bool { insert(id).inserted }
}

/// One bit a blob: what a prune of millions needs.
extension MasterIndex.BlobMarks: BlobCollection {
    func insert(_ id: BlobID, of index: MasterIndex) -> Bool { index.mark(id, in: self) }
}

extension Repository {
    /// Adds to `used` every blob a snapshot needs: its trees and the content of its files.
    /// Trees already in `used` are not walked again, so the snapshots of one repository
    /// share the work.
    /// - Throws: ``RepositoryError/blobNotInIndex(_:)`` for a needed blob the index lacks.
    func collectBlobs<Used: BlobCollection>(of snapshot: Snapshot, index: MasterIndex, into used: inout Used) async throws {
        var stack = [snapshot.tree]
        while let treeID = stack.popLast() {
            // Asked first: marks cannot hold a blob the index lacks.
            guard index.contains(treeID) else { throw RepositoryError.blobNotInIndex(treeID) }
            guard used.insert(treeID, of: index) else { continue }
            for node in try await loadTree(treeID, index: index).nodes {
                if let sub = node.subtree { stack.append(sub) }
                for blob in node.content {
                    guard index.contains(blob) else { throw RepositoryError.blobNotInIndex(blob) }
                    _ = used.insert(blob, of: index)
                }
            }
        }
    }
}
