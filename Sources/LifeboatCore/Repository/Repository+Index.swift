import Foundation

/// The reading side of the index and the packs: every index segment merged into one
/// ``MasterIndex``, and blobs (trees among them) read, authenticated and decompressed
/// through it.
extension Repository {
    /// Reads and merges every index segment. A damaged segment is left out and named in
    /// `problems`: its blobs count as absent, so a backup stores them again and a restore
    /// reports the files that need them, while everything else keeps working.
    ///
    /// One listing of `data/` then makes each blob indexed in several packs refer to a copy
    /// that is there (``MasterIndex/preferPresentPacks(_:)``): an old index segment replayed
    /// by the storage provider cannot make a blob look lost while a copy of it exists.
    public func loadIndex() async throws -> MasterIndex {
        var index = MasterIndex()
        let segments = try await backend.list(.index)
        index.reserveCapacity(segmentBytes: segments.reduce(0) { $0 + $1.sizeBytes })
        for info in segments {
            do {
                index.add(try IndexSegment.decode(try await loadSealed(info.name), what: info.name.path))
            } catch let error as StorageError {
                throw error
            } catch {
                index.problems.append("index \(info.name.name): \(error)")
            }
        }
        index.preferPresentPacks(try await presentPacks())
        return index
    }

    /// The packs the location holds, by one listing of `data/`, with their sizes.
    func presentPacks() async throws -> [PackID: Int] {
        Self.presentPacks(in: try await backend.list(.data))
    }

    /// The packs a listing of `data/` names, with their sizes.
    static func presentPacks(in listing: [ObjectInfo]) -> [PackID: Int] {
        var present: [PackID: Int] = [:]
        for info in listing {
            // A name that is not a SHA-256 is not a pack of ours; `check` reports it.
            if let id = PackID(hex: info.name.name) { present[id] = info.sizeBytes }
        }
        return present
    }

    /// Reads one blob, authenticates it and returns its plaintext.
    public func loadBlob(_ location: BlobLocation) async throws -> [UInt8] {
        let pack = ObjectName(.data, location.pack)
        let sealed = try await backend.read(pack, offset: location.offset, length: location.sealedBytes)
        return try openBlob(sealed, location: location)
    }

    /// Authenticates and decompresses a sealed blob read from its pack.
    func openBlob(_ sealed: [UInt8], location: BlobLocation) throws -> [UInt8] {
        try sealed.withUnsafeBytes { try openBlob($0, location: location) }
    }

    /// Authenticates and decompresses a sealed blob in a buffer that holds more (a window of
    /// its pack), without copying it out first.
    func openBlob(_ sealed: UnsafeRawBufferPointer, location: BlobLocation) throws -> [UInt8] {
        let key = try dataKey(location.dataKey)
        let pack = ObjectName(.data, location.pack)
        let plain: Data
        do {
            plain = try withUnsafeBytes(of: location.id.digest.bytesTuple) { (ad) throws in
                try Sealing.open(sealed, key: key.key, additionalData: ad, what: "blob \(location.id.shortHex) in pack \(location.pack.shortHex)")
            }
        } catch {
            throw RepositoryError.damaged(pack, reason: "\(error)")
        }
        guard location.isCompressed else {
            guard plain.count == location.plainBytes else { throw RepositoryError.damaged(pack, reason: "blob \(location.id.shortHex) has the wrong length") }
            return Array(plain)
        }
        do {
            return try plain.withUnsafeBytes { (p) throws in try zstd.decompress(p, plainBytes: location.plainBytes) }
        } catch {
            throw RepositoryError.damaged(pack, reason: "blob \(location.id.shortHex): \(error)")
        }
    }

    /// Reads and decodes one tree blob.
    /// - Throws: ``RepositoryError/blobNotInIndex(_:)``, or the errors of ``loadBlob(_:)``.
    public func loadTree(_ id: BlobID, index: MasterIndex) async throws -> Tree {
        guard let location = index.location(of: id) else { throw RepositoryError.blobNotInIndex(id) }
        return try Tree.decode(try await loadBlob(location), id: id)
    }
}
