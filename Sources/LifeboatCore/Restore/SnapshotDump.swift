import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes one entry of a snapshot to an open file descriptor without restoring it: a
/// file's bytes as they were, a folder (or the whole snapshot, path `/`) as a POSIX tar
/// stream whose names start at the folder's own name. Every blob is authenticated before
/// a byte of it is written, as for a restore.
public struct SnapshotDump: Sendable {
    public let repository: Repository
    public let index: MasterIndex

    public init(repository: Repository, index: MasterIndex) {
        self.repository = repository
        self.index = index
    }

    public enum Form: Sendable {
        /// The file's content, byte for byte.
        case file
        /// A tar stream of the folder and everything below it.
        case tar
    }

    public struct Result: Sendable {
        public var entries = 0
        public var contentBytes: Int64 = 0
        /// Entries a tar stream cannot hold (sockets), by path.
        public var skipped: [String] = []
    }

    /// What `path` names, decided before a byte is written.
    /// - Throws: ``RepositoryError/pathNotInSnapshot(_:)``, or ``DumpError/notDumpable(_:_:)``
    ///   for a symlink or a special file named directly.
    public func form(of path: String, in root: BlobID) async throws -> Form {
        guard !Self.isRoot(path) else { return .tar }
        let node = try await repository.node(at: path, in: root, index: index)
        switch node.type {
        case .file: return .file
        case .directory: return .tar
        case .symlink:
            throw DumpError.notDumpable(path, "a symlink to \(String(decoding: node.linkTarget ?? [], as: UTF8.self)); dump what it points to")
        default: throw DumpError.notDumpable(path, "a \(node.type.rawValue), which has no content")
        }
    }

    /// Writes `path` of the snapshot whose tree is `root` to `fd`, in the form ``form(of:in:)`` gives.
    /// - Throws: as ``form(of:in:)``, ``DumpError/writeFailed(_:)`` when `fd` refuses the
    ///   bytes, or a repository error when a blob is missing or damaged.
    public func write(_ path: String, in root: BlobID, to fd: Int32) async throws -> Result {
        let form = try await form(of: path, in: root)
        // Writes to a pipe or a file block: on the blocking pool (BlockingIOQueue).
        return try await BlockingIOQueue.withExecutor {
            var output = Output(fd: fd)
            var result = Result()
            if form == .file {
                let node = try await repository.node(at: path, in: root, index: index)
                try await writeContent(of: node, path: path, to: &output, result: &result)
            } else if Self.isRoot(path) {
                var hardlinks: [HardlinkKey: [UInt8]] = [:]
                try await writeTree(root, prefix: [], to: &output, result: &result, hardlinks: &hardlinks)
                try output.append(TarHeader.end)
            } else {
                let node = try await repository.node(at: path, in: root, index: index)
                var hardlinks: [HardlinkKey: [UInt8]] = [:]
                try await writeEntry(node, name: node.nameBytes, to: &output, result: &result, hardlinks: &hardlinks)
                try output.append(TarHeader.end)
            }
            try output.flush()
            return result
        }
    }

    private static func isRoot(_ path: String) -> Bool { path.split(separator: "/").isEmpty }

    private struct HardlinkKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private func writeTree(
        _ id: BlobID, prefix: [UInt8], to output: inout Output, result: inout Result, hardlinks: inout [HardlinkKey: [UInt8]]
    ) async throws {
        let tree = try await repository.loadTree(id, index: index)
        for node in tree.nodes {
            try Task.checkCancellation()
            let name = prefix.isEmpty ? node.nameBytes : prefix + [UInt8(ascii: "/")] + node.nameBytes
            try await writeEntry(node, name: name, to: &output, result: &result, hardlinks: &hardlinks)
        }
    }

    /// One entry of the tar stream, and everything below it for a folder.
    private func writeEntry(
        _ node: Node, name: [UInt8], to output: inout Output, result: inout Result, hardlinks: inout [HardlinkKey: [UInt8]]
    ) async throws {
        var header = TarHeader(
            path: name, kind: .file, mode: node.mode, uid: node.uid, gid: node.gid, sizeBytes: 0, mtime: node.mtime, xattrs: node.xattrs)
        switch node.type {
        case .file:
            let key = HardlinkKey(device: node.device, inode: node.inode)
            if node.linkCount > 1, let first = hardlinks[key] {
                header.kind = .hardlink
                header.linkTarget = first
                try output.append(header.encoded())
                result.entries += 1
                return
            }
            if node.linkCount > 1 { hardlinks[key] = name }
            header.sizeBytes = node.sizeBytes
            try output.append(header.encoded())
            let written = try await writeContent(of: node, path: String(decoding: name, as: UTF8.self), to: &output, result: &result)
            try output.append(TarHeader.padding(after: Int(written % Int64(TarHeader.blockBytes))))
        case .directory:
            header.kind = .directory
            header.path = name + [UInt8(ascii: "/")]
            try output.append(header.encoded())
            result.entries += 1
            if let subtree = node.subtree {
                try await writeTree(subtree, prefix: name, to: &output, result: &result, hardlinks: &hardlinks)
            }
            return
        case .symlink:
            header.kind = .symlink
            header.linkTarget = node.linkTarget ?? []
            try output.append(header.encoded())
        case .fifo:
            header.kind = .fifo
            try output.append(header.encoded())
        case .characterDevice, .blockDevice:
            header.kind = node.type == .characterDevice ? .characterDevice : .blockDevice
            header.deviceNumber = node.deviceNumber ?? 0
            try output.append(header.encoded())
        case .socket:
            result.skipped.append(String(decoding: name, as: UTF8.self))
            return
        }
        if node.type != .file { result.entries += 1 }
    }

    /// The file's blobs in order; returns the bytes written.
    @discardableResult
    private func writeContent(of node: Node, path: String, to output: inout Output, result: inout Result) async throws -> Int64 {
        var written: Int64 = 0
        for id in node.content {
            try Task.checkCancellation()
            guard let location = index.location(of: id) else { throw RepositoryError.blobNotInIndex(id) }
            let bytes = try await repository.loadBlob(location)
            try output.append(bytes)
            written += Int64(bytes.count)
        }
        // A tar header promised the recorded size: the content must match it.
        guard UInt64(written) == node.sizeBytes else {
            throw DumpError.sizeMismatch(path, recorded: node.sizeBytes, stored: UInt64(written))
        }
        result.entries += 1
        result.contentBytes += written
        return written
    }

    /// Collects small pieces (headers, padding) into writes of about 1 MiB.
    private struct Output {
        let fd: Int32
        var buffer: [UInt8] = []
        static let flushBytes = 1 << 20

        mutating func append(_ bytes: [UInt8]) throws {
            if buffer.count + bytes.count >= Self.flushBytes {
                try flush()
                if bytes.count >= Self.flushBytes { return try Self.write(bytes, to: fd) }
            }
            buffer += bytes
        }

        mutating func flush() throws {
            guard !buffer.isEmpty else { return }
            try Self.write(buffer, to: fd)
            buffer.removeAll(keepingCapacity: true)
        }

        private static func write(_ bytes: [UInt8], to fd: Int32) throws {
            try bytes.withUnsafeBytes { p in
                var done = 0
                while done < p.count {
                    let n = Glibc.write(fd, p.baseAddress! + done, p.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw DumpError.writeFailed(errno)
                    }
                    done += n
                }
            }
        }
    }
}

public enum DumpError: Error, Equatable, CustomStringConvertible {
    case notDumpable(String, String)
    case sizeMismatch(String, recorded: UInt64, stored: UInt64)
    case writeFailed(Int32)

    public var description: String {
        switch self {
        case .notDumpable(let path, let what): "\(path) is \(what)"
        case .sizeMismatch(let path, let recorded, let stored):
            "\(path): the snapshot records \(recorded) bytes but its content holds \(stored); the snapshot is damaged"
        case .writeFailed(let e): "cannot write the output: \(String(cString: strerror(e)))"
        }
    }
}
