/// Visits every entry of a snapshot's tree depth first, in name order, with its path.
public struct TreeWalker: Sendable {
    public let repository: Repository
    public let index: MasterIndex

    public init(repository: Repository, index: MasterIndex) {
        self.repository = repository
        self.index = index
    }

    public func walk(_ root: BlobID, visit: (String, Node) throws -> Void) async throws {
        var stack: [(BlobID, String)] = [(root, "")]
        while let (id, prefix) = stack.popLast() {
            let tree = try await repository.loadTree(id, index: index)
            var subdirectories: [(BlobID, String)] = []
            for node in tree.nodes {
                let path = prefix + "/" + node.name
                try visit(path, node)
                if let sub = node.subtree { subdirectories.append((sub, path)) }
            }
            stack.append(contentsOf: subdirectories.reversed())
        }
    }
}

extension Repository {
    /// The entry at an absolute path inside a snapshot's tree.
    /// - Throws: ``RepositoryError/pathNotInSnapshot(_:)`` when the path is not in it.
    public func node(at path: String, in root: BlobID, index: MasterIndex) async throws -> Node {
        var tree = try await loadTree(root, index: index)
        let components = path.split(separator: "/")
        for (i, c) in components.enumerated() {
            guard let node = tree.node(named: Array(c.utf8)) else { throw RepositoryError.pathNotInSnapshot(path) }
            if i == components.count - 1 { return node }
            guard let sub = node.subtree else { throw RepositoryError.pathNotInSnapshot(path) }
            tree = try await loadTree(sub, index: index)
        }
        throw RepositoryError.pathNotInSnapshot(path)
    }
}
