import Foundation
import LifeboatCore

/// Writes a valid repository of many small blobs quickly: the scale rows of BENCHMARKS.md
/// (issue 16) need millions of blobs, which a real backup would only reach with terabytes.
///
///     lifeboat-benchmarks synthetic-repository DIR --blobs N [--garbage PERCENT]
///
/// The passphrase is `$LIFEBOAT_PASSWORD`. Every blob is a real one, written through
/// ``BlobWriter`` (16 bytes of plaintext, HMAC id, sealed in packs with their index
/// segments), so `check --read-data`, `restore` and `prune` work on the result as on any
/// repository. One snapshot (host `synthetic`, path `/synthetic`) refers to all but
/// `PERCENT` of them through files of 1,000 blobs in directories of 25 files; the rest,
/// every blob whose number ends a run of 100/PERCENT, is garbage for `prune`.
enum SyntheticRepository {
    static let blobsPerFile = 1000
    static let filesPerDirectory = 25
    static let plainBytes = 16

    static func run(_ arguments: [String]) async throws {
        guard let path = arguments.first, let blobs = value(of: "--blobs", in: arguments).flatMap(Int.init), blobs > 0 else {
            throw Usage("usage: lifeboat-benchmarks synthetic-repository DIR --blobs N [--garbage PERCENT]")
        }
        let garbage = value(of: "--garbage", in: arguments).flatMap(Int.init) ?? 10
        guard (0..<100).contains(garbage) else { throw Usage("--garbage is a percentage below 100") }
        guard let passphrase = ProcessInfo.processInfo.environment["LIFEBOAT_PASSWORD"] else { throw Usage("set LIFEBOAT_PASSWORD") }
        let started = ContinuousClock.now
        let backend = try LocalDirectoryBackend(path: path, create: true)
        let repository = try await Repository.initialize(backend: backend, passphrase: passphrase, host: "synthetic", username: "bench")
        let snapshot = try await RepositoryLock.withLock(repository, exclusive: false, host: "synthetic", username: "bench") {
            try await write(blobs: blobs, garbageEvery: garbage == 0 ? 0 : 100 / garbage, into: repository)
        }
        let data = try await backend.list(.data)
        let bytes = data.reduce(0) { $0 + $1.sizeBytes }
        let elapsed = ContinuousClock.now - started
        print("synthetic repository \(path): \(blobs) blobs (\(garbage)% unreferenced) in \(data.count) packs of \(bytes >> 20) MiB, snapshot \(snapshot.hex), \(elapsed)")
    }

    private static func write(blobs: Int, garbageEvery: Int, into repository: Repository) async throws -> SnapshotID {
        let writer = try await BlobWriter(repository: repository, index: MasterIndex())
        // Both cores seal: each worker stores every other run of 4,096 blobs.
        let workers = max(2, ProcessInfo.processInfo.activeProcessorCount)
        let run = 4096
        let ids = try await withThrowingTaskGroup(of: [(Int, BlobID)].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var out: [(Int, BlobID)] = []
                    var plain = [UInt8](repeating: 0, count: plainBytes)
                    for start in stride(from: worker * run, to: blobs, by: workers * run) {
                        for n in start..<min(start + run, blobs) {
                            plain.withUnsafeMutableBytes {
                                $0.storeBytes(of: UInt64(n).littleEndian, toByteOffset: 0, as: UInt64.self)
                                $0.storeBytes(of: UInt64(0x6c69_6665_626f_6174).littleEndian, toByteOffset: 8, as: UInt64.self)
                            }
                            out.append((n, try await writer.save(plain, type: .data).id))
                        }
                    }
                    return out
                }
            }
            var all = [BlobID?](repeating: nil, count: blobs)
            for try await part in group { for (n, id) in part { all[n] = id } }
            return all.map { $0! }
        }
        let referenced = ids.enumerated().filter { garbageEvery == 0 || $0.offset % garbageEvery != garbageEvery - 1 }.map(\.element)

        let time = FileTime(seconds: 1_767_225_600, nanoseconds: 0)  // 2026-01-01
        var directories: [Node] = []
        var files: [Node] = []
        func closeDirectory() async throws {
            guard !files.isEmpty else { return }
            let (tree, _) = try await writer.save(Tree(nodes: files).encoded(), type: .tree)
            directories.append(
                Node(
                    nameBytes: Array(String(format: "d%06d", directories.count).utf8), type: .directory, mode: 0o755, uid: 0, gid: 0, mtime: time,
                    ctime: time, sizeBytes: 0, inode: UInt64(1 + directories.count), device: 1, linkCount: 2, subtree: tree))
            files = []
        }
        for start in stride(from: 0, to: referenced.count, by: blobsPerFile) {
            let content = Array(referenced[start..<min(start + blobsPerFile, referenced.count)])
            files.append(
                Node(
                    nameBytes: Array(String(format: "f%08d", start / blobsPerFile).utf8), type: .file, mode: 0o644, uid: 0, gid: 0, mtime: time,
                    ctime: time, sizeBytes: UInt64(content.count * plainBytes), inode: UInt64(1_000_000 + start / blobsPerFile), device: 1,
                    linkCount: 1, content: content))
            if files.count == filesPerDirectory { try await closeDirectory() }
        }
        try await closeDirectory()
        let (root, _) = try await writer.save(Tree(nodes: directories).encoded(), type: .tree)
        try await writer.flush()
        var statistics = Snapshot.Statistics()
        statistics.filesNew = (referenced.count + blobsPerFile - 1) / blobsPerFile
        statistics.directories = directories.count
        statistics.totalFileBytes = Int64(referenced.count * plainBytes)
        statistics.bytesAdded = writer.bytesAdded
        statistics.blobsAdded = writer.blobsAdded
        return try await writer.saveSnapshot(
            Snapshot.make(
                time: Date(), type: .full, source: .files, paths: ["/synthetic"], host: "synthetic", username: "bench", tree: root,
                dataKey: writer.dataKey.id, programVersion: "lifeboat-benchmarks", statistics: statistics))
    }

    static func value(of option: String, in arguments: [String]) -> String? {
        guard let i = arguments.firstIndex(of: option), i + 1 < arguments.count else { return nil }
        return arguments[i + 1]
    }
}

/// Opens a repository and loads its index, as every command that reads blobs does first:
/// the "open" row of the scale benchmark.
///
///     lifeboat-benchmarks open-index DIR
enum OpenIndex {
    static func run(_ arguments: [String]) async throws {
        guard let path = arguments.first else { throw Usage("usage: lifeboat-benchmarks open-index DIR") }
        guard let passphrase = ProcessInfo.processInfo.environment["LIFEBOAT_PASSWORD"] else { throw Usage("set LIFEBOAT_PASSWORD") }
        let started = ContinuousClock.now
        let repository = try await Repository.open(backend: try LocalDirectoryBackend(path: path), passphrase: passphrase)
        let index = try await repository.loadIndex()
        let elapsed = ContinuousClock.now - started
        print("opened \(path): \(index.blobCount) blobs in \(index.packCount) packs, \(MasterIndex.bytesPerBlob) bytes a blob in the index, \(elapsed)")
    }
}

struct Usage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
