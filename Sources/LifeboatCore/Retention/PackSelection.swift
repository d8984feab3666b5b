/// What `prune` does with one pack, decided in its first pass over the index segments.
struct PackPlan: Sendable {
    enum Action: Sendable, Equatable {
        /// Indexed again as it is (in use, young, or partly used within the unused limit).
        case keep
        /// Nothing in it is used.
        case delete
        /// Its used blobs are copied into new packs.
        case repack
    }

    /// What the first pass read, to notice a segment that changed before the second.
    let sizeBytes: Int
    let blobCount: Int
    var action: Action
}

/// Which copy of each used blob `prune` keeps: the first met in the index segments' order.
/// Both passes over the segments go through one of these from the start, so the second
/// makes exactly the choices the first decided on, without holding the segments between.
struct PackSelection {
    let index: MasterIndex
    let used: MasterIndex.BlobMarks
    private let kept: MasterIndex.BlobMarks

    init(index: MasterIndex, used: MasterIndex.BlobMarks) {
        self.index = index
        self.used = used
        kept = index.makeMarks()
    }

    /// A pack kept whole whatever it holds: its used blobs are kept here.
    func keepWhole(_ record: IndexSegment.PackRecord) {
        for b in record.blobs where index.isMarked(b.id, in: used) { index.mark(b.id, in: kept) }
    }

    /// The blobs of `record` that are used and not kept from an earlier pack; they are kept
    /// here from now on.
    func wanted(of record: IndexSegment.PackRecord) -> [Pack.Entry] {
        let wanted = record.blobs.filter { index.isMarked($0.id, in: used) && !index.isMarked($0.id, in: kept) }
        for b in wanted { index.mark(b.id, in: kept) }
        return wanted
    }
}
