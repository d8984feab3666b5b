import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes one restored file's content, blob by blob, on a child task of the restore walk.
///
/// Every blob is authenticated before a byte of it is written; a file whose blob is
/// damaged or missing, or whose bytes read back differently (`verify`), is removed, never
/// left with wrong bytes. Sparse restores write only the non-zero 4 KiB blocks. The
/// metadata is set last, through the open descriptor. A file written under a temporary
/// name (an entry may exist under its own) is synced and renamed over it only then, so
/// that what it replaces stays as it was if it cannot be restored, even across a crash.
enum RestoreContentWriter {
    /// One file to fill, opened by the walk.
    struct Job: Sendable {
        /// The directory the file goes in, and its name there.
        let directory: DirectoryHandle
        let name: [UInt8]
        /// Where the walk created it when not under `name`: renamed over `name` when complete.
        let temporaryName: [UInt8]?
        /// `name`'s place below the target (for hardlinks to it).
        let components: [[UInt8]]
        let snapshotPath: String
        let node: Node
        /// Opened for reading and writing by the walk; the job closes it.
        let fd: Int32

        var path: RawPath { directory.path.appending(name) }
    }

    /// What became of one file.
    enum Outcome: Sendable {
        case written(bytes: Int64, verified: Bool)
        case damaged(String)
        case verificationFailed(String)
        case failed(String)
    }

    private static let zeroBlock = [UInt8](repeating: 0, count: 4096)

    /// Fills `job.fd`, checks it when asked, sets its metadata and closes it.
    static func write(_ job: Job, repository: Repository, index: MasterIndex, options: RestoreOptions) async -> Outcome {
        assert(BlockingIOExecutor.isCurrentThreadInPool, "restore writes belong on the blocking pool (Restorer.restore)")
        let path = job.path
        let fd = job.fd
        let madeAs = job.temporaryName ?? job.name
        // Never leave a file with wrong or missing bytes where the right one should be; the
        // name removed is the one this restore created (O_EXCL), in the directory it holds open.
        func discard() {
            close(fd)
            DirectoryHandle.withName(madeAs) { _ = unlinkat(job.directory.fd, $0, 0) }
        }
        var offset = 0
        var failure: Outcome?
        var locations: [BlobLocation] = []
        locations.reserveCapacity(job.node.content.count)
        for id in job.node.content {
            guard let location = index.location(of: id) else {
                failure = .damaged("blob \(id.shortHex) is not in the index")
                break
            }
            locations.append(location)
            offset += location.plainBytes
        }
        if failure == nil { failure = await fill(fd, with: locations, repository: repository, sparse: options.sparse) }
        // A file that ends in a hole is shorter than its size until truncated to it.
        if failure == nil, lseek(fd, 0, SEEK_END) != off_t(offset), ftruncate(fd, off_t(offset)) != 0 {
            failure = .failed("truncate: \(String(cString: strerror(errno)))")
        }
        if let failure {
            discard()
            return failure
        }
        var verified = false
        if options.verify {
            if let problem = mismatch(fd, content: job.node.content, index: index, repository: repository) {
                discard()
                return .verificationFailed(problem)
            }
            verified = true
        }
        let problem = RestoreMetadata.apply(fd: fd, path: path, node: job.node, options: options)
        if let temporary = job.temporaryName {
            // Durable before it replaces anything: a crash must not trade the old file for an
            // empty one. The fsync waits for the disk, so it runs on the blocking pool (one
            // hop per replaced file, with the rename), not on a core of the cooperative pool.
            let directory = job.directory
            let name = job.name
            let failure: String?
            do {
                failure = try await BlockingIOQueue.run { () -> String? in
                    if fsync(fd) != 0 { return "fsync: \(String(cString: strerror(errno)))" }
                    let r = DirectoryHandle.withName(temporary) { t in DirectoryHandle.withName(name) { renameat(directory.fd, t, directory.fd, $0) } }
                    if r != 0 { return "cannot replace what the target holds there: \(String(cString: strerror(errno)))" }
                    return nil
                }
            } catch {
                failure = "\(error)"
            }
            if let failure {
                discard()
                return .failed(failure)
            }
        }
        close(fd)
        if let problem { return .failed(problem) }
        return .written(bytes: Int64(offset), verified: verified)
    }

    /// Blobs of one file loaded, opened and written at once: a large file (a database's)
    /// would otherwise be restored on one core, a blob at a time.
    static let blobsInFlight = max(2, ProcessInfo.processInfo.activeProcessorCount)

    /// Writes each blob at its place in the file, up to ``blobsInFlight`` at once; returns
    /// the first failure met, nil when every blob was written.
    private static func fill(_ fd: Int32, with locations: [BlobLocation], repository: Repository, sparse: Bool) async -> Outcome? {
        @Sendable func write(_ location: BlobLocation, at offset: Int) async -> Outcome? {
            let plain: [UInt8]
            do {
                plain = try await repository.loadBlob(location)
            } catch {
                return .damaged("\(error)")
            }
            guard plain.count == location.plainBytes else { return .damaged("blob \(location.id.shortHex) has the wrong length") }
            if let e = writeBlocks(plain, fd: fd, at: offset, sparse: sparse) { return .failed("write: \(String(cString: strerror(e)))") }
            return nil
        }
        if locations.count == 1 { return await write(locations[0], at: 0) }
        return await withTaskGroup(of: Outcome?.self) { group in
            var failure: Outcome?
            var offset = 0
            var running = 0
            for location in locations {
                if running >= blobsInFlight, let done = await group.next() {
                    running -= 1
                    if let done {
                        failure = done
                        break
                    }
                }
                let at = offset
                offset += location.plainBytes
                group.addTask { await write(location, at: at) }
                running += 1
            }
            while let done = await group.next() {
                if failure == nil, let done { failure = done }
            }
            return failure
        }
    }

    /// pwrite of the non-zero 4 KiB blocks only when sparse; returns errno on failure.
    private static func writeBlocks(_ bytes: [UInt8], fd: Int32, at offset: Int, sparse: Bool) -> Int32? {
        bytes.withUnsafeBytes { p -> Int32? in
            var i = 0
            while i < p.count {
                var runEnd = i
                if sparse {
                    // Skip zero blocks; then take the following run of non-zero blocks.
                    while i < p.count, isZero(p, i) { i += 4096 }
                    runEnd = i
                    while runEnd < p.count, !isZero(p, runEnd) { runEnd += 4096 }
                    runEnd = min(runEnd, p.count)
                } else {
                    runEnd = p.count
                }
                if i >= p.count { break }
                var done = i
                while done < runEnd {
                    let n = pwrite(fd, p.baseAddress! + done, runEnd - done, off_t(offset + done))
                    if n < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    done += n
                }
                i = runEnd
            }
            return nil
        }
    }

    @inline(__always)
    private static func isZero(_ p: UnsafeRawBufferPointer, _ at: Int) -> Bool {
        let n = min(4096, p.count - at)
        return zeroBlock.withUnsafeBytes { memcmp(p.baseAddress! + at, $0.baseAddress!, n) == 0 }
    }

    /// Reads the file back in the snapshot's blob lengths and compares each blob id; returns
    /// where it differs, nil when it holds exactly `content`.
    static func mismatch(_ fd: Int32, content: [BlobID], index: MasterIndex, repository: Repository) -> String? {
        var offset = 0
        for id in content {
            guard let length = index.location(of: id)?.plainBytes else { return "blob \(id.shortHex) not indexed" }
            var buffer = [UInt8](repeating: 0, count: length)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(offset)) }
            guard n == length, repository.masterKey.blobID(of: buffer) == id else { return "bytes at offset \(offset) differ" }
            offset += length
        }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) == offset else { return "size differs" }
        return nil
    }
}
