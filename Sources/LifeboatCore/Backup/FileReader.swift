import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads one regular file, cuts it into chunks and saves each as a blob.
///
/// The read window is a raw buffer of the largest chunk plus one read block (9 MiB), of
/// which the first 4 MiB are used unless a chunk needs more; it is filled with reads of up
/// to the free space, and bytes left after a cut are moved to the front when the free
/// space drops below a read block, which moves about a chunk's worth each time. The chunker is asked first with what the window holds, and again with
/// more only when it finds no cut there. Small
/// files (under 256 KiB) get a buffer of their own size; larger ones share pooled windows.
/// Files of 32 MiB and more hand each chunk (copied) to a child task, so that a single
/// large file is hashed, compressed and sealed on every core.
struct FileReader: Sendable {
    let writer: BlobWriter
    let fileChunker: FastCDCChunker
    /// Read windows for large files, reused from file to file.
    let windows: RawBufferPool
    static let readBlockBytes = 1 << 20
    /// How much of a window is filled while chunks are of the usual size (1 MiB on average):
    /// three windows of the largest chunk (9 MiB each) made a backup's peak RSS 20 MiB
    /// larger, and moving the leftover to the front more often costs a few ms a GiB.
    static let usedWindowBytes = 4 << 20
    /// Files at least this large have their chunks saved in parallel.
    static let parallelFileBytes: UInt64 = 32 << 20
    /// Chunks of one large file being saved at once (each a copy of up to 8 MiB).
    static let chunkWorkers = max(2, ProcessInfo.processInfo.activeProcessorCount)

    init(writer: BlobWriter, fileChunker: FastCDCChunker, workers: Int) {
        self.writer = writer
        self.fileChunker = fileChunker
        windows = RawBufferPool(byteCount: fileChunker.maxChunkBytes + Self.readBlockBytes, alignment: 64, keep: workers)
    }

    struct Outcome: Sendable {
        var content: [BlobID]
        var bytesRead: Int64
        var status: FileStatus
        /// Set when the file's size or times changed while it was read.
        var changedWhileRead: Bool
        /// Set when the name led to another file than the walk's `lstat` saw (replaced in
        /// between): `status` and `xattrs` are then those of the file read.
        var isReplacement = false
        var xattrs: [ExtendedAttribute] = []
    }

    /// Where a file to read is.
    enum Source: Sendable {
        /// The entry `name` of an open directory of the walk (`path` for messages).
        case entry(DirectoryHandle, name: [UInt8], path: RawPath)
        /// A file Lifeboat made itself (a database's checked copy standing in for a live file).
        case ownFile(RawPath)

        var path: RawPath {
            switch self {
            case .entry(_, _, let path): path
            case .ownFile(let path): path
            }
        }
    }

    /// Opens the file without following a symlink and without blocking on a FIFO (either
    /// may have taken the name since the walk looked); only a regular file is read.
    private static func open(_ source: Source) throws -> Int32 {
        // O_NONBLOCK: a FIFO swapped in opens at once (and is refused below); regular files ignore it.
        let flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK
        func attempt(_ flags: Int32) -> Int32 {
            switch source {
            case .entry(let dir, let name, _): dir.openEntry(name, flags: flags)
            case .ownFile(let path):
                path.withCString { p in
                    let fd = Glibc.open(p, flags)
                    return fd >= 0 ? fd : -errno
                }
            }
        }
        var fd = attempt(flags | O_NOATIME)
        // O_NOATIME is only for the file's owner (or root).
        if fd == -EPERM { fd = attempt(flags) }
        if fd == -EWOULDBLOCK {
            // A lease (Samba, an NFS server) makes a non-blocking open fail while it is broken;
            // wait for it as a blocking open would, on the very file found: an O_PATH
            // descriptor opens nothing, and reopening it through /proc cannot reach a FIFO
            // that took the name meanwhile.
            let handle = attempt(O_PATH | O_CLOEXEC | O_NOFOLLOW)
            guard handle >= 0 else { throw FileSystemError("open", source.path, errno: -handle) }
            defer { close(handle) }
            let found = try FileStatus.fstat(handle, path: source.path)
            guard found.type == .file else {
                throw FileSystemError("read", source.path, reason: "was replaced by a \(found.type.rawValue) after it was listed; not backed up")
            }
            let reopen = { (flags: Int32) -> Int32 in
                let fd = Glibc.open("/proc/self/fd/\(handle)", flags)
                return fd >= 0 ? fd : -errno
            }
            fd = reopen(O_RDONLY | O_CLOEXEC | O_NOATIME)
            if fd == -EPERM { fd = reopen(O_RDONLY | O_CLOEXEC) }
        }
        guard fd >= 0 else { throw FileSystemError("open", source.path, errno: -fd) }
        return fd
    }

    /// Reads `source`, which the walk found as `expected`.
    /// - Throws: ``FileSystemError`` when it cannot be opened or read, or is no longer a regular file.
    func read(_ source: Source, expected: FileStatus) async throws -> Outcome {
        assert(BlockingIOExecutor.isCurrentThreadInPool, "file reads belong on the blocking pool (FileTreeBackup.store)")
        let path = source.path
        let fd = try Self.open(source)
        defer { close(fd) }
        let before = try FileStatus.fstat(fd, path: path)
        guard before.type == .file else {
            throw FileSystemError("read", path, reason: "was replaced by a \(before.type.rawValue) after it was listed; not backed up")
        }
        // Whatever has the name now is what is read: never its content under the walk's metadata.
        var isReplacement = false
        var xattrs: [ExtendedAttribute] = []
        if case .entry = source, before.device != expected.device || before.inode != expected.inode {
            isReplacement = true
            xattrs = (try? Directory.extendedAttributes(fd: fd, shownAs: path)) ?? []  // unreadable: recorded without, as for a vanished attribute
        }
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        let (content, bytesRead) = try await store(fd, path: path, sizeBytes: before.sizeBytes)
        let after = try FileStatus.fstat(fd, path: path)
        return Outcome(
            content: content, bytesRead: bytesRead, status: after,
            changedWhileRead: after.differsInContent(from: before) || UInt64(bytesRead) != after.sizeBytes, isReplacement: isReplacement, xattrs: xattrs)
    }

    /// Reads a stream to its end (`backup --stdin`: a pipe from `pg_dump`), whose size is
    /// not known ahead: read as a large file is, its chunks saved in parallel.
    /// - Returns: the content's blobs and how many bytes the stream gave.
    func readStream(_ fd: Int32, shownAs path: RawPath) async throws -> (content: [BlobID], bytesRead: Int64) {
        try await store(fd, path: path, sizeBytes: nil)
    }

    /// Reads `fd` to its end, cutting and saving chunks. `sizeBytes` (nil: not known) picks
    /// the buffer: a small file's own, or a pooled window; a large or unknown size saves
    /// chunks in parallel.
    private func store(_ fd: Int32, path: RawPath, sizeBytes: UInt64?) async throws -> ([BlobID], Int64) {
        let maxChunk = fileChunker.maxChunkBytes
        // Only small files get a buffer of their own: every allocation of a few MiB that is
        // freed again costs page faults or leaves heap memory that is never returned.
        let isSmall = sizeBytes.map { $0 < 256 << 10 } ?? false
        let pooled = isSmall ? nil : windows.take()
        let buffer = pooled?.pointer ?? UnsafeMutableRawBufferPointer.allocate(byteCount: Int(sizeBytes ?? 0) + 4096, alignment: 64)
        let capacity = buffer.count
        defer { if let pooled { windows.give(pooled) } else { buffer.deallocate() } }

        // Large files: each chunk is copied out of the window and saved (hashed, compressed,
        // sealed, packed) by a child task, at most `chunkWorkers` at once, so that one big
        // file (a database's table) keeps every core busy instead of one.
        let isParallel = sizeBytes.map { $0 >= Self.parallelFileBytes } ?? true
        var slots: [BlobID?] = []
        var start = 0
        var end = 0
        var isEOF = false
        var bytesRead: Int64 = 0
        var chunker: (any Chunker)?
        // Bytes wanted in the window before asking the chunker: one read block more than
        // there are, until the window is full or the file ends.
        var wanted = 1
        try await withThrowingTaskGroup(of: (Int, BlobID).self) { group in
            var saving = 0
            while true {
                while !isEOF && end - start < wanted {
                    // The window's first `usedWindowBytes` serve, unless a chunk needs more:
                    // the rest is touched (made resident) only by the rare largest chunks.
                    let limit = min(capacity, max(Self.usedWindowBytes, wanted + Self.readBlockBytes))
                    if limit - end < Self.readBlockBytes && start > 0 {
                        // Move what is left to the front; it is usually less than a chunk.
                        (buffer.baseAddress! + 0).copyMemory(from: buffer.baseAddress! + start, byteCount: end - start)
                        end -= start
                        start = 0
                    }
                    if end >= limit { break }
                    let n = Glibc.read(fd, buffer.baseAddress! + end, limit - end)
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
                // No cut inside a window shorter than the largest chunk: the cut may lie beyond
                // it, so read more and ask again (the chunker's answer depends only on the bytes
                // up to the cut, so asking again with more bytes gives the same cuts).
                if length == window.count && window.count < maxChunk && !isEOF && end - start < capacity {
                    wanted = min(maxChunk, end - start + Self.readBlockBytes)
                    continue
                }
                wanted = 1
                if isParallel {
                    let chunk = [UInt8](unsafeUninitializedCapacity: length) { copy, count in
                        UnsafeMutableRawPointer(copy.baseAddress!).copyMemory(from: window.baseAddress!, byteCount: length)
                        count = length
                    }
                    if saving >= Self.chunkWorkers, let (slot, id) = try await group.next() {
                        slots[slot] = id
                        saving -= 1
                    }
                    let slot = slots.count
                    slots.append(nil)
                    let writer = self.writer
                    group.addTask { (slot, try await writer.save(chunk, type: .data).id) }
                    saving += 1
                } else {
                    let (id, _) = try await writer.save(UnsafeRawBufferPointer(rebasing: window[0..<length]), type: .data)
                    slots.append(id)
                }
                start += length
            }
            while let (slot, id) = try await group.next() { slots[slot] = id }
        }
        return (slots.map { $0! }, bytesRead)
    }
}
