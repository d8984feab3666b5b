/// Writes pack records into index segments as they come, a bounded number at a time:
/// a repository of millions of blobs is re-indexed (by `prune`) without holding its
/// whole index in records, and no segment is so large that reading it costs much memory.
struct IndexSegmentWriter {
    let repository: Repository
    /// The data key the segments are sealed under.
    let dataKey: DataKey
    /// A segment is written once it holds this many blobs or ``maxPacks`` packs.
    var maxBlobs = 1 << 16
    var maxPacks = 1024
    private var pending: [IndexSegment.PackRecord] = []
    private var pendingBlobs = 0
    private(set) var segmentsWritten = 0
    /// The packs written for this index (``add(written:)``), and their bytes.
    private(set) var packsWritten = 0
    private(set) var bytesWritten: Int64 = 0

    init(repository: Repository, dataKey: DataKey) {
        self.repository = repository
        self.dataKey = dataKey
    }

    /// Adds the record of a pack that is already durable.
    mutating func add(_ record: IndexSegment.PackRecord) async throws {
        pending.append(record)
        pendingBlobs += record.blobs.count
        if pendingBlobs >= maxBlobs || pending.count >= maxPacks { try await flush() }
    }

    /// Adds the record of a pack written for this index, counting it.
    mutating func add(written record: IndexSegment.PackRecord) async throws {
        packsWritten += 1
        bytesWritten += Int64(record.sizeBytes)
        try await add(record)
    }

    /// Writes what is pending; an index with no pack at all still gets one (empty) segment.
    mutating func finish() async throws {
        if !pending.isEmpty || segmentsWritten == 0 { try await flush() }
    }

    private mutating func flush() async throws {
        _ = try await repository.saveSealed(IndexSegment(packs: pending).encoded(), kind: .index, dataKey: dataKey)
        segmentsWritten += 1
        pending.removeAll(keepingCapacity: true)
        pendingBlobs = 0
    }
}
