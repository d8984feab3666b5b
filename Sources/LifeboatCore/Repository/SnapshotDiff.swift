/// The differences between two snapshot trees. Subtrees with the same blob id are equal
/// and skipped, so the cost follows the size of the change, not of the snapshots.
public struct SnapshotDiff: Sendable {
    public let repository: Repository
    public let index: MasterIndex

    public enum Kind: String, Sendable {
        case added = "+"
        case removed = "-"
        case modified = "M"
        case typeChanged = "T"
        case metadataChanged = "U"
    }

    public struct Change: Sendable, Equatable {
        public let kind: Kind
        public let path: String
    }

    public init(repository: Repository, index: MasterIndex) {
        self.repository = repository
        self.index = index
    }

    public func changes(from a: BlobID, to b: BlobID) async throws -> [Change] {
        var out: [Change] = []
        try await compare(a, b, prefix: "", into: &out)
        return out
    }

    private func compare(_ a: BlobID?, _ b: BlobID?, prefix: String, into out: inout [Change]) async throws {
        if a == b { return }
        let ta = try await nodes(a)
        let tb = try await nodes(b)
        var i = 0
        var j = 0
        while i < ta.count || j < tb.count {
            let na = i < ta.count ? ta[i] : nil
            let nb = j < tb.count ? tb[j] : nil
            if let na, nb == nil || na.nameBytes.lexicographicallyPrecedes(nb!.nameBytes) {
                try await all(na, prefix: prefix, kind: .removed, into: &out)
                i += 1
            } else if let nb, na == nil || nb.nameBytes.lexicographicallyPrecedes(na!.nameBytes) {
                try await all(nb, prefix: prefix, kind: .added, into: &out)
                j += 1
            } else if let na, let nb {
                let path = prefix + "/" + na.name
                if na.type != nb.type as NodeType {
                    out.append(Change(kind: .typeChanged, path: path))
                } else if na.type == .directory {
                    if na.mode != nb.mode || na.uid != nb.uid || na.gid != nb.gid { out.append(Change(kind: .metadataChanged, path: path)) }
                    try await compare(na.subtree, nb.subtree, prefix: path, into: &out)
                } else if na.content != nb.content || na.linkTarget != nb.linkTarget {
                    out.append(Change(kind: .modified, path: path))
                } else if Self.metadataDiffers(na, nb) {
                    out.append(Change(kind: .metadataChanged, path: path))
                }
                i += 1
                j += 1
            }
        }
    }

    private static func metadataDiffers(_ a: Node, _ b: Node) -> Bool {
        if a.mode != b.mode || a.mtime != b.mtime { return true }
        return a.uid != b.uid || a.gid != b.gid || a.xattrs != b.xattrs
    }

    private func nodes(_ id: BlobID?) async throws -> [Node] {
        guard let id else { return [] }
        return try await repository.loadTree(id, index: index).nodes
    }

    private func all(_ node: Node, prefix: String, kind: Kind, into out: inout [Change]) async throws {
        let path = prefix + "/" + node.name
        out.append(Change(kind: kind, path: path))
        if node.type == .directory, let sub = node.subtree {
            for child in try await repository.loadTree(sub, index: index).nodes {
                try await all(child, prefix: path, kind: kind, into: &out)
            }
        }
    }
}
