import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension LocalDirectoryBackend {
    /// A temporary file in the kind's folder (`data/.tmp-…`), made at the first block and
    /// linked under the object's name at the commit.
    public func makeStagedObject(_ kind: ObjectKind, expectedBytes: Int) -> any StagedObject {
        guard kind.isFolder else { return MemoryStagedObject(backend: self, expectedBytes: expectedBytes) }
        return LocalStagedObject(backend: self, kind: kind)
    }
}

/// A staged object of a ``LocalDirectoryBackend``: aligned blocks go to disk with O_DIRECT
/// (see ``LocalDirectoryBackend/writeDirect(_:_:)`` for why), the last, shorter one through
/// the page cache; the commit fsyncs the file, links it under its name (which fails, as a
/// write does, when the name exists) and fsyncs the name's folder.
final class LocalStagedObject: StagedObject {
    private let backend: LocalDirectoryBackend
    private let kind: ObjectKind
    private let temporaryName: String
    private struct File {
        /// The kind's folder, which holds the temporary; -1 until the first block.
        var folder: Int32 = -1
        var fd: Int32 = -1
        /// Whether O_DIRECT is on; off for good once the filesystem refused it (tmpfs).
        var direct = false
        var directRefused = false
        var committed = false
    }
    private let file = Mutex(File())

    init(backend: LocalDirectoryBackend, kind: ObjectKind) {
        self.backend = backend
        self.kind = kind
        temporaryName = ".tmp-\(Digest256.random().hex.prefix(16))"
    }

    deinit {
        // Never committed (the run failed or was cancelled): nothing of it stays.
        file.withLock { f in
            if f.fd >= 0 { close(f.fd) }
            if f.folder >= 0 {
                if !f.committed { unlinkat(f.folder, temporaryName, 0) }
                close(f.folder)
            }
        }
    }

    private var relativePath: String { kind.rawValue + "/" + temporaryName }

    /// Makes the temporary file on first use.
    private func open(_ f: inout File) throws {
        guard f.folder < 0 else { return }
        let folder = try backend.openFolder([kind.rawValue], create: true, name: nil)
        let fd = openat(folder, temporaryName, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, backend.fileMode)
        guard fd >= 0 else {
            let e = errno
            close(folder)
            throw LocalDirectoryBackend.mapErrno(e, what: relativePath, name: nil, location: backend.root)
        }
        (f.folder, f.fd) = (folder, fd)
        if let e = backend.prepareNewFile(fd) { throw LocalDirectoryBackend.mapErrno(e, what: relativePath, name: nil, location: backend.root) }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        let error: Int32? = try file.withLock { f in
            try open(&f)
            guard f.fd >= 0 else { return EBADF }
            let block = 4096
            let aligned = offset % block == 0 && bytes.count % block == 0 && Int(bitPattern: bytes.baseAddress) % block == 0
            let wantDirect = aligned && !f.directRefused
            if wantDirect != f.direct {
                let flags = fcntl(f.fd, F_GETFL)
                if fcntl(f.fd, F_SETFL, wantDirect ? flags | O_DIRECT : flags & ~O_DIRECT) == 0 {
                    f.direct = wantDirect
                } else if wantDirect {
                    f.directRefused = true
                }
            }
            var result = DurableFile.writeAll(f.fd, bytes, at: offset)
            if result == EINVAL && f.direct {
                // Accepted by fcntl, refused by write: buffered from here on.
                f.directRefused = true
                f.direct = false
                _ = fcntl(f.fd, F_SETFL, fcntl(f.fd, F_GETFL) & ~O_DIRECT)
                result = DurableFile.writeAll(f.fd, bytes, at: offset)
            }
            return result
        }
        if let error { throw LocalDirectoryBackend.mapErrno(error, what: relativePath, name: nil, location: backend.root) }
    }

    func commit(as name: ObjectName) async throws {
        precondition(name.kind == kind, "a staged object is named within its kind")
        try await BlockingIOQueue.run { try self.commitNow(as: name) }
    }

    private func commitNow(as name: ObjectName) throws {
        let (folders, fileName) = LocalDirectoryBackend.place(of: name)
        let location = backend.root
        try file.withLock { f in
            try open(&f)
            guard f.fd >= 0, !f.committed else { throw StorageError.io(name.path, errno: EBADF, location: location) }
            // Committed or not, the temporary goes now: a staged object is committed once.
            defer { unlinkat(f.folder, temporaryName, 0) }
            if fsync(f.fd) != 0 { throw LocalDirectoryBackend.mapErrno(errno, what: name.path, name: name, location: location) }
            close(f.fd)
            f.fd = -1
            let target = try backend.openFolder(folders, create: true, name: name)
            defer { close(target) }
            // link(2), not rename(2): it fails on an existing name, as a write does.
            if linkat(f.folder, temporaryName, target, fileName, 0) != 0 {
                throw errno == EEXIST
                    ? StorageError.alreadyExists(name, location: location)
                    : LocalDirectoryBackend.mapErrno(errno, what: name.path, name: name, location: location)
            }
            f.committed = true
            if fsync(target) != 0 && errno != EINVAL { throw LocalDirectoryBackend.mapErrno(errno, what: name.path, name: nil, location: location) }
        }
    }
}
