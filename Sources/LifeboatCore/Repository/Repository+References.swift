extension Repository {
    /// Adds to `used` every blob a snapshot needs: its trees and the content of its files.
    /// Trees already in `used` are not walked again, so the snapshots of one repository
    /// share the work.
    /// - Throws: ``RepositoryError/blobNotInIndex(_:)`` for a needed blob the index lacks.
    func collectBlobs(of snapshot: Snapshot, index: MasterIndex, into used: inout Set<BlobID>) async throws {
        var stack = [snapshot.tree]
        while let treeID = stack.popLast() {
            guard used.insert(treeID).inserted else { continue }
            guard index.contains(treeID) else { throw RepositoryError.blobNotInIndex(treeID) }
            for node in try await loadTree(treeID, index: index).nodes {
                if let sub = node.subtree { stack.append(sub) }
                for blob in node.content {
                    guard index.contains(blob) else { throw RepositoryError.blobNotInIndex(blob) }
                    used.insert(blob)
                }
            }
        }
    }
}
