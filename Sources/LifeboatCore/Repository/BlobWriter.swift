import Foundation
import Synchronization

/// Adds blobs to a repository for one backup run, under that run's data key.
///
/// Callers (one per concurrent file worker) hash, compress and seal on their own task,
/// so that both cores do the per-byte work; only appending to the open pack takes a
/// short lock. An open pack goes to its location a 1 MiB block at a time as it fills
/// (``OpenPack``, ``PackStream``): written by one worker at a time while the others seal,
/// with a few blocks queued at most, which is the pipeline's back-pressure. A location
/// that can stage an object (a local directory) so never holds a whole pack in memory;
/// the others gather each pack in memory and store it whole when it is finished.
///
/// Write order (crash safety): a pack is durable before any index segment names it,
/// and index segments are durable before the snapshot that needs them. Each pack
/// gets its index segment as soon as it is durable, so a backup killed at any instant
/// leaves everything it uploaded indexed for the next run to reuse.
public final class BlobWriter: Sendable {
    public let repository: Repository
    public let dataKey: DataKey
    private let zstd: Zstd
    /// What the repository held when the run began; the run's own blobs are in `State.added`.
    /// (Read, never copied: a set of every blob id would double the run's memory per blob.)
    private let index: MasterIndex
    private let state: Mutex<State>
    private let packsPerIndexSegment = 1
    /// Tree packs stay small, whatever the data packs' target: trees are read on their own
    /// (a backup loads its parent's, restore and check walk them), and a reader that fetches
    /// whole packs (``PackCachingBackend``) then fetches 1 MiB, not 16.
    static let treePackTargetBytes = 1 << 20
    /// The blocks packs are written in; those queued or being filled at most, and a few more.
    private let packBlocks = RawBufferPool(byteCount: PackStream.blockBytes, keep: PackStream.maxQueuedBlocks + 2)
    /// Compression and sealing buffers: one a chunk (1 MiB on average); the few grown for
    /// the largest chunks (8 MiB) are not kept.
    private let scratch = ByteArrayPool(keep: 6, maxKeptCapacity: 3 << 20)

    struct State {
        /// The blobs this run stored (or is storing).
        var added: Set<BlobID> = []
        var dataPack: OpenPack
        var treePack: OpenPack
        var unindexed: [IndexSegment.PackRecord] = []
        var packsWritten = 0
        /// Every pack and index segment this run wrote, for the read-back after the backup.
        var written: [ObjectInfo] = []
        var bytesAdded: Int64 = 0
        var blobsAdded = 0
    }

    /// Makes a fresh data key for this run and stores it.
    /// - Parameter compression: how hard blobs are compressed (the repository's default is `auto`).
    public init(repository: Repository, index: MasterIndex, now: Date = Date(), compression: CompressionMode = .auto) async throws {
        self.repository = repository
        self.zstd = compression == .auto ? repository.zstd : Zstd(level: compression.zstdLevel)
        let key = try await repository.createDataKey(now: now)
        self.dataKey = key
        self.index = index
        state = Mutex(
            State(
                dataPack: Self.newPack(repository: repository, dataKey: key, nominalBytes: repository.config.packTargetBytes, blocks: packBlocks),
                treePack: Self.newPack(repository: repository, dataKey: key, nominalBytes: Self.treePackTargetBytes, blocks: packBlocks)))
    }

    public var bytesAdded: Int64 { state.withLock { $0.bytesAdded } }
    public var blobsAdded: Int { state.withLock { $0.blobsAdded } }

    /// Whether the repository (or this run) already has the blob.
    public func contains(_ id: BlobID) -> Bool { index.contains(id) || state.withLock { $0.added.contains(id) } }

    /// Stores `plaintext` as a blob unless the repository already has it.
    /// - Returns: the blob id, and whether it was new.
    @discardableResult
    public func save(_ plaintext: UnsafeRawBufferPointer, type: BlobType) async throws -> (id: BlobID, isNew: Bool) {
        let (id, isNew, open, full) = add(plaintext, type: type)
        try await settle(open: open, full: full)
        return (id, isNew)
    }

    @discardableResult
    public func save(_ plaintext: [UInt8], type: BlobType) async throws -> (id: BlobID, isNew: Bool) {
        let (id, isNew, open, full) = plaintext.withUnsafeBytes { add($0, type: type) }
        try await settle(open: open, full: full)
        return (id, isNew)
    }

    /// After an append: writes the blocks it queued (or waits for room), and finishes the
    /// pack it completed.
    private func settle(open: OpenPack?, full: OpenPack?) async throws {
        if let open { await open.stream.pump() }
        if let full { try await upload(full) }
    }

    /// Hashes, compresses, seals and appends to the open pack.
    /// - Returns: the blob's id, whether it was new, the pack it went to and the pack it
    ///   completed, if any.
    private func add(_ plaintext: UnsafeRawBufferPointer, type: BlobType) -> (BlobID, Bool, OpenPack?, OpenPack?) {
        let id = repository.masterKey.blobID(of: plaintext)
        let claimed = !index.contains(id) && state.withLock { $0.added.insert(id).inserted }
        guard claimed else { return (id, false, nil, nil) }
        var compressed = scratch.take()
        defer { scratch.give(compressed) }
        let isCompressed = zstd.compress(plaintext, appendingTo: &compressed)
        var sealed = scratch.take(minimumCapacity: (isCompressed ? compressed.count : plaintext.count) + Sealing.overheadBytes)
        defer { scratch.give(sealed) }
        withUnsafeBytes(of: id.digest.bytesTuple) { ad in
            if isCompressed {
                compressed.withUnsafeBytes { Sealing.seal($0, key: dataKey.key, additionalData: ad, appendingTo: &sealed) }
            } else {
                Sealing.seal(plaintext, key: dataKey.key, additionalData: ad, appendingTo: &sealed)
            }
        }
        let (open, full) = state.withLock { s -> (OpenPack, OpenPack?) in
            s.bytesAdded += Int64(sealed.count)
            s.blobsAdded += 1
            let nominal = type == .tree ? Self.treePackTargetBytes : repository.config.packTargetBytes
            let next = { Self.newPack(repository: self.repository, dataKey: self.dataKey, nominalBytes: nominal, blocks: self.packBlocks) }
            if type == .tree {
                return Self.append(sealed, to: &s.treePack, id: id, type: type, plainBytes: plaintext.count, isCompressed: isCompressed, next: next)
            } else {
                return Self.append(sealed, to: &s.dataPack, id: id, type: type, plainBytes: plaintext.count, isCompressed: isCompressed, next: next)
            }
        }
        return (id, true, open, full)
    }

    /// Appends a sealed blob to the open pack `pack`; returns the pack it went to, and the
    /// pack it completed, if any: the open one, finished before the blob when the blob
    /// would take it past its target, or after it when the blob filled it. `next` opens
    /// the pack that follows.
    private static func append(
        _ sealed: [UInt8], to pack: inout OpenPack, id: BlobID, type: BlobType, plainBytes: Int, isCompressed: Bool, next: () -> OpenPack
    ) -> (OpenPack, OpenPack?) {
        var completed: OpenPack?
        if pack.wouldOverflow(adding: sealed.count) {
            completed = pack
            pack = next()
        }
        let target = pack
        target.append(sealedBlob: sealed, type: type, id: id, plainBytes: plainBytes, isCompressed: isCompressed)
        guard completed == nil, target.isFull else { return (target, completed) }
        pack = next()
        return (target, target)
    }

    private static func newPack(repository: Repository, dataKey: DataKey, nominalBytes: Int, blocks: RawBufferPool) -> OpenPack {
        let target = PackTarget(nominalBytes: nominalBytes)
        let staged = repository.backend.makeStagedObject(.data, expectedBytes: target.maxPackBytes)
        return OpenPack(dataKey: dataKey, target: target, staged: staged, blocks: blocks)
    }

    /// Finishes a pack no one else holds any more, and indexes it.
    private func upload(_ pack: OpenPack) async throws {
        let (id, size) = try await pack.finish()
        let entries = pack.entries
        let due: [IndexSegment.PackRecord] = state.withLock { s in
            s.unindexed.append(IndexSegment.PackRecord(id: id, dataKey: dataKey.id, sizeBytes: size, blobs: entries))
            s.packsWritten += 1
            s.written.append(ObjectInfo(name: ObjectName(.data, id), sizeBytes: size))
            s.bytesAdded += Int64(size - entries.reduce(0) { $0 + $1.sealedBytes })
            guard s.unindexed.count >= packsPerIndexSegment else { return [] }
            defer { s.unindexed = [] }
            return s.unindexed
        }
        if !due.isEmpty { try await writeIndex(due) }
    }

    private func writeIndex(_ packs: [IndexSegment.PackRecord]) async throws {
        let name = try await repository.saveSealed(IndexSegment(packs: packs).encoded(), kind: .index, dataKey: dataKey)
        state.withLock { $0.written.append(ObjectInfo(name: name, sizeBytes: 0)) }
    }

    /// The packs and index segments this run has written so far.
    public var writtenObjects: [ObjectInfo] { state.withLock { $0.written } }

    /// Uploads the open packs and indexes everything not yet indexed. After it returns,
    /// every blob saved so far is durable and indexed.
    public func flush() async throws {
        let nominal = (data: repository.config.packTargetBytes, tree: Self.treePackTargetBytes)
        let (data, tree) = state.withLock { s in
            defer {
                s.dataPack = Self.newPack(repository: repository, dataKey: dataKey, nominalBytes: nominal.data, blocks: packBlocks)
                s.treePack = Self.newPack(repository: repository, dataKey: dataKey, nominalBytes: nominal.tree, blocks: packBlocks)
            }
            return (s.dataPack, s.treePack)
        }
        if !data.isEmpty { try await upload(data) }
        if !tree.isEmpty { try await upload(tree) }
        let rest = state.withLock { s in
            defer { s.unindexed = [] }
            return s.unindexed
        }
        if !rest.isEmpty { try await writeIndex(rest) }
        // What follows a flush (the read-back, the snapshot) needs none of these.
        packBlocks.removeAll()
        scratch.removeAll()
    }

    /// Seals and stores a snapshot under this run's data key, once the run's lock is known to
    /// be still held: a run paused past its lease stops here rather than write a snapshot
    /// whose packs a prune may have removed meanwhile.
    /// - Throws: ``RepositoryError/lockLost(reason:location:)``, or what storing throws.
    public func saveSnapshot(_ snapshot: Snapshot) async throws -> SnapshotID {
        try await RepositoryLock.verifyHeld(on: repository.backend)
        return try await repository.saveSnapshot(snapshot, dataKey: dataKey)
    }
}
