#if canImport(Glibc)
import Glibc
#endif

/// What a restore with the same options would do to its target, found without writing
/// anything there (`restore --dry-run`): each entry it would restore, replace, keep as the
/// target holds it, or find there already.
///
/// The target is only opened and read: directories that do not exist yet are not made
/// (everything below them would be new), and a file's content is compared with the
/// snapshot's blob by blob only where the overwrite policy asks the restore to (as the
/// restore itself does).
public struct RestorePreview: Sendable {
    public enum Action: String, Sendable, Codable {
        /// Nothing is there: it would be made.
        case restore
        /// Something is there and would be replaced.
        case overwrite
        /// Something else is there and would be left as it is (`--overwrite never`).
        case keep
        /// The snapshot's content is there already: left untouched.
        case unchanged
    }

    public struct Entry: Sendable {
        /// Where in the target.
        public let path: String
        public let action: Action
        public let type: NodeType
        /// A file's size; 0 for other entries.
        public let sizeBytes: Int64
    }

    /// Files and other entries (directories aside), in the snapshot's order.
    public internal(set) var entries: [Entry] = []
    /// Directories that do not exist in the target and would be made.
    public internal(set) var directoriesToMake = 0
    /// What would get in the restore's way (a name held by something that is not a folder,
    /// an unreadable listing): the restore would report these too.
    public internal(set) var errors: [String] = []

    /// The bytes the restore would write: the files it restores or overwrites.
    public var bytesToWrite: Int64 {
        entries.reduce(0) { $0 + ($1.action == .restore || $1.action == .overwrite ? $1.sizeBytes : 0) }
    }

    public func count(_ action: Action) -> Int { entries.count { $0.action == action } }
}

extension Restorer {
    /// What restoring `tree` with `options` would do, writing nothing.
    /// - Throws: the restore's refusal of a target that is not a folder; a storage or
    ///   repository error reading the index or the root tree.
    public func preview(tree: BlobID, options: RestoreOptions) async throws -> RestorePreview {
        let target = RawPath(options.target)
        var st = stat()
        let exists = target.withCString { stat($0, &st) } == 0
        if exists && (st.st_mode & S_IFMT) != S_IFDIR {
            throw FileSystemError("restore", target, reason: "the restore target is not a folder: name a folder (it is made when missing)")
        }
        try await repository.refreshDataKeys()
        let index = try await repository.loadIndex()
        let (repository, shown) = (self.repository, options.target.hasSuffix("/") && options.target.count > 1 ? String(options.target.dropLast()) : options.target)
        return try await BlockingIOQueue.withExecutor {
            var preview = RestorePreview()
            let root = exists ? try DirectoryHandle.open(target) : nil
            if !exists { preview.directoriesToMake += 1 }
            // A nil directory does not exist in the target: nothing below it can be there.
            var stack: [(tree: BlobID, directory: DirectoryHandle?, snapshotPath: String, isIncluded: Bool)] = [
                (tree, root, "", options.includes.isEmpty)
            ]
            while let pending = stack.popLast() {
                try Task.checkCancellation()
                let listing: Tree
                do {
                    listing = try await repository.loadTree(pending.tree, index: index)
                } catch {
                    preview.errors.append("\(shown)\(pending.snapshotPath): the snapshot's listing of this folder is unreadable: \(error)")
                    continue
                }
                for node in listing.nodes where Restorer.isSafeName(node.nameBytes) {
                    let snapshotPath = pending.snapshotPath + "/" + node.name
                    if options.isExcluded(snapshotPath, name: node.name) { continue }
                    let isIncluded = pending.isIncluded || options.isIncluded(snapshotPath, name: node.name)
                    let dir = pending.directory
                    switch node.type {
                    case .directory:
                        guard isIncluded || options.hasIncludeBelow(snapshotPath), let sub = node.subtree else { continue }
                        var handle: DirectoryHandle?
                        if let dir {
                            do {
                                handle = try dir.openDirectory(node.nameBytes)
                            } catch let error as FileSystemError where error.errno == ENOENT {
                                handle = nil
                            } catch let error as FileSystemError where error.errno == ELOOP || error.errno == ENOTDIR {
                                preview.errors.append("\(shown)\(snapshotPath): exists in the target and is not a folder; the snapshot's folder there would not be restored")
                                continue
                            }
                        }
                        if handle == nil { preview.directoriesToMake += 1 }
                        stack.append((sub, handle, snapshotPath, isIncluded))
                    case .socket:
                        continue  // a restore makes no sockets
                    default:
                        guard isIncluded else { continue }
                        let action = Self.action(for: node, in: dir, policy: options.overwrite, index: index, repository: repository)
                        preview.entries.append(
                            RestorePreview.Entry(path: shown + snapshotPath, action: action, type: node.type, sizeBytes: node.type == .file ? Int64(node.sizeBytes) : 0))
                    }
                }
            }
            return preview
        }
    }

    /// What the restore's overwrite policy would do with `node` where `dir` holds it (or nothing).
    private static func action(
        for node: Node, in dir: DirectoryHandle?, policy: RestoreOptions.OverwritePolicy, index: MasterIndex, repository: Repository
    ) -> RestorePreview.Action {
        guard let dir else { return .restore }
        let existing: RestoreWalk.Existing
        if policy == .always {
            // Replaced whatever it holds: only whether something is there matters.
            existing = (try? dir.status(of: node.nameBytes)) == nil ? .absent : .different
        } else if node.type == .file {
            existing = RestoreWalk.existingFile(node.nameBytes, in: dir, node: node, index: index, repository: repository)
        } else {
            existing = RestoreWalk.existingSpecial(node.nameBytes, in: dir, node: node)
        }
        switch existing {
        case .absent: return .restore
        case .same: return .unchanged
        case .different: return policy == .never ? .keep : .overwrite
        }
    }
}
