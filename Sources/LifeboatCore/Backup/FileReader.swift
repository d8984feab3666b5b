import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads one regular file, cuts it into chunks and saves each as a blob.
///
/// The read window is a raw buffer of twice the largest chunk, filled with reads of at
/// least 1 MiB; the bytes left after a cut are moved to the front only when the window
/// can no longer hold a largest chunk, so each byte is moved about once at most. Small
/// files get a buffer of their own size, so thousands of them cost no large allocations.
struct FileReader {
    let writer: BlobWriter
    let fileChunker: FastCDCChunker
    static let readBlockBytes = 1 << 20

    struct Outcome: Sendable {
        var content: [BlobID]
        var bytesRead: Int64
        var status: FileStatus
        /// Set when the file's size or times changed while it was read.
        var changedWhileRead: Bool
    }

    func read(_ path: RawPath, expected: FileStatus) async throws -> Outcome {
        var fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NOATIME | O_NOFOLLOW) }
        if fd < 0 && errno == EPERM {
            // O_NOATIME is only for the file's owner (or root).
            fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        }
        guard fd >= 0 else { throw FileSystemError("open", path, errno: errno) }
        defer { close(fd) }
        let before = try FileStatus.fstat(fd, path: path)
        guard before.type == .file else { throw FileSystemError("open", path, errno: EISDIR) }
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)

        let maxChunk = fileChunker.maxChunkBytes
        let capacity = before.sizeBytes < UInt64(maxChunk) ? Int(before.sizeBytes) + 4096 : 2 * maxChunk + Self.readBlockBytes
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        defer { buffer.deallocate() }

        var content: [BlobID] = []
        var start = 0
        var end = 0
        var isEOF = false
        var bytesRead: Int64 = 0
        var chunker: (any Chunker)?
        while true {
            while !isEOF && end - start < maxChunk {
                if capacity - end < Self.readBlockBytes && start > 0 {
                    (buffer.baseAddress! + 0).copyMemory(from: buffer.baseAddress! + start, byteCount: end - start)
                    end -= start
                    start = 0
                }
                if end == capacity { break }
                let n = Glibc.read(fd, buffer.baseAddress! + end, capacity - end)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError("read", path, errno: errno)
                }
                if n == 0 { isEOF = true } else { end += n; bytesRead += Int64(n) }
            }
            if chunker == nil {
                let head = UnsafeRawBufferPointer(rebasing: buffer[0..<end])
                chunker = PageAlignedChunker.databasePageBytes(header: head).map { PageAlignedChunker(pageBytes: $0) } ?? fileChunker
            }
            if start == end { break }
            try Task.checkCancellation()
            let window = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
            let length = chunker!.nextChunkLength(in: window, isEndOfStream: isEOF)
            let (id, _) = try await writer.save(UnsafeRawBufferPointer(rebasing: window[0..<length]), type: .data)
            content.append(id)
            start += length
        }
        let after = try FileStatus.fstat(fd, path: path)
        return Outcome(content: content, bytesRead: bytesRead, status: after, changedWhileRead: after.differsInContent(from: before) || UInt64(bytesRead) != after.sizeBytes)
    }
}
