/// The pack a backup is filling: its sealed blobs go out a block at a time through a
/// ``PackStream`` as they come, so the pack is never held whole; its header is written
/// after the last blob.
///
/// @unchecked Sendable: one holder at a time, under ``BlobWriter``'s lock while it is
/// open, then the worker that finishes it, alone.
final class OpenPack: @unchecked Sendable {
    let dataKey: DataKey
    let target: PackTarget
    let stream: PackStream
    private let blocks: RawBufferPool
    private(set) var entries: [Pack.Entry] = []
    /// The sealed blobs' bytes so far.
    private(set) var blobBytes = 0
    private var block: RawBufferPool.Buffer?
    private var blockFill = 0

    init(dataKey: DataKey, target: PackTarget, staged: any StagedObject, blocks: RawBufferPool) {
        precondition(blocks.byteCount == PackStream.blockBytes, "an open pack fills stream-sized blocks")
        self.dataKey = dataKey
        self.target = target
        self.blocks = blocks
        stream = PackStream(staged: staged, blocks: blocks)
    }

    deinit {
        if let block { blocks.give(block) }
    }

    var isEmpty: Bool { entries.isEmpty }
    var isFull: Bool { target.isFull(blobBytes: blobBytes) }

    func wouldOverflow(adding count: Int) -> Bool {
        target.wouldOverflow(blobs: entries.count, blobBytes: blobBytes, adding: count)
    }

    func append(sealedBlob: [UInt8], type: BlobType, id: BlobID, plainBytes: Int, isCompressed: Bool) {
        entries.append(
            Pack.Entry(type: type, id: id, offset: blobBytes, sealedBytes: sealedBlob.count, plainBytes: plainBytes, isCompressed: isCompressed))
        blobBytes += sealedBlob.count
        sealedBlob.withUnsafeBytes { copy($0) }
    }

    /// Copies into the current block, queueing each block as it fills.
    private func copy(_ bytes: UnsafeRawBufferPointer) {
        var done = 0
        while done < bytes.count {
            let buffer = block ?? blocks.take()
            let n = min(bytes.count - done, PackStream.blockBytes - blockFill)
            (buffer.pointer.baseAddress! + blockFill).copyMemory(from: bytes.baseAddress! + done, byteCount: n)
            blockFill += n
            done += n
            if blockFill == PackStream.blockBytes {
                stream.enqueue(buffer, count: blockFill)
                block = nil
                blockFill = 0
            } else {
                block = buffer
            }
        }
    }

    /// Appends the sealed header and trailer, writes what is left and names the pack.
    /// - Returns: the pack's id and size.
    func finish() async throws -> (id: PackID, sizeBytes: Int) {
        Pack.sealedHeaderAndTrailer(entries: entries, dataKey: dataKey, blobBytes: blobBytes).withUnsafeBytes { copy($0) }
        if let block {
            stream.enqueue(block, count: blockFill)
            self.block = nil
            blockFill = 0
        }
        let id = try await stream.finish()
        try await stream.staged.commit(as: ObjectName(.data, id))
        return (id, stream.bytesQueued)
    }
}
