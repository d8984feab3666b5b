import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Finds the entries of snapshots whose name matches a shell pattern (`*.conf`,
/// `report-202?-*`), or whose whole path does when the pattern holds a `/`.
///
/// Snapshots of one source share most of their trees: what a tree holds is searched once
/// per run and reused for every snapshot that has it, so searching a hundred snapshots
/// costs little more than searching the ones that differ.
public struct SnapshotSearch: Sendable {
    public let repository: Repository
    public let index: MasterIndex
    public let pattern: String
    public let ignoringCase: Bool

    public struct Match: Sendable {
        public let path: String
        public let node: Node
    }

    public init(repository: Repository, index: MasterIndex, pattern: String, ignoringCase: Bool) {
        self.repository = repository
        self.index = index
        self.pattern = pattern
        self.ignoringCase = ignoringCase
    }

    /// Matches below each tree, relative to it ("/name/..."): the cache shared by snapshots.
    public final class TreeMatches: @unchecked Sendable {
        // Used by one search at a time, from one task.
        fileprivate var byTree: [BlobID: [(relative: [UInt8], node: Node)]] = [:]
        public init() {}
    }

    /// The matching entries of the tree `root`, in path order.
    public func matches(in root: BlobID, cache: TreeMatches) async throws -> [Match] {
        if pattern.contains("/") {
            // A pattern of the whole path: the answer depends on where a tree sits, no cache.
            var out: [Match] = []
            try await TreeWalker(repository: repository, index: index).walk(root) { path, node in
                if matches(path) { out.append(Match(path: path, node: node)) }
            }
            return out.sorted { $0.path < $1.path }
        }
        return try await below(root, cache: cache).map { Match(path: String(decoding: $0.relative, as: UTF8.self), node: $0.node) }
    }

    private func below(_ id: BlobID, cache: TreeMatches) async throws -> [(relative: [UInt8], node: Node)] {
        if let known = cache.byTree[id] { return known }
        try Task.checkCancellation()
        let tree = try await repository.loadTree(id, index: index)
        var out: [(relative: [UInt8], node: Node)] = []
        for node in tree.nodes {
            let relative = [UInt8(ascii: "/")] + node.nameBytes
            if matches(node.name) { out.append((relative, node)) }
            if let subtree = node.subtree {
                for inner in try await below(subtree, cache: cache) { out.append((relative + inner.relative, inner.node)) }
            }
        }
        cache.byTree[id] = out
        return out
    }

    private func matches(_ text: String) -> Bool {
        ShellPattern.matches(pattern, text, ignoringCase: ignoringCase)
    }
}
