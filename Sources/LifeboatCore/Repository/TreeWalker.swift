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
