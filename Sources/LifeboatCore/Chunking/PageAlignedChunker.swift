/// Fixed-size chunks on page boundaries, for database files.
///
/// A database changes in place, page by page, spread through the file. Content-defined
/// chunks of about 1 MiB would each contain a changed page, so the whole file would be
/// stored again; chunks of one page store only the pages that changed.
public struct PageAlignedChunker: Chunker {
    public let maxChunkBytes: Int

    public init(pageBytes: Int) {
        precondition(pageBytes > 0)
        maxChunkBytes = pageBytes
    }

    public func nextChunkLength(in window: UnsafeRawBufferPointer, isEndOfStream: Bool) -> Int {
        min(window.count, maxChunkBytes)
    }

    /// Recognises a database file from its first bytes and returns the chunk size for it:
    /// SQLite's header names its page size; chunks are never smaller than 4 KiB.
    public static func databasePageBytes(header: UnsafeRawBufferPointer) -> Int? {
        let magic: [UInt8] = Array("SQLite format 3\0".utf8)
        guard header.count >= 100, header.prefix(16).elementsEqual(magic) else { return nil }
        let raw = Int(header[16]) << 8 | Int(header[17])
        let page = raw == 1 ? 65536 : raw
        guard page >= 512, page <= 65536, page & (page - 1) == 0 else { return nil }
        return max(page, 4096)
    }
}
