@preconcurrency import Crypto
import Foundation

/// PostgreSQL's archived WAL in a repository: `wal/<timeline>/<name>`, one object per
/// file PostgreSQL hands to `archive_command` (segments, `.history`, `.backup`, `.partial`).
///
/// Each object is a ``SealedObject`` of kind `wal` (compressed, sealed, padded) whose
/// payload is: `"LBWAL1"`, the file name's length (u16) and bytes, the push time
/// (milliseconds since 1970, u64), the file's length (u64) and SHA-256, then the file.
/// The name inside is checked on every read, so an object moved to another name is
/// refused rather than replayed as the wrong segment.
///
/// Objects are sealed with a WAL data key (purpose `wal`): the newest one made less than
/// a day ago, else a new one. A push is one process per segment; one key a day keeps
/// `datakeys/` small, and `key rotate` re-seals these keys like any other.
public struct WalArchive: Sendable {
    public let repository: Repository
    package static let magic = Array("LBWAL1".utf8)
    /// How long one WAL data key is used for new objects.
    public static let keyLifetime: TimeInterval = 24 * 3600

    public init(repository: Repository) {
        self.repository = repository
    }

    public enum PushOutcome: Sendable, Equatable {
        /// Stored now; the sealed object's size.
        case stored(bytes: Int)
        /// An identical copy was already archived (PostgreSQL pushes again after a crash).
        case alreadyArchived
    }

    /// One archived file as listed.
    public struct Entry: Sendable, Hashable, Encodable {
        public let file: WalFileName
        public let storedBytes: Int

        enum CodingKeys: String, CodingKey { case name, timeline, storedBytes }

        /// As `wal list --json` shows it: the file's name and timeline beside its stored size.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(file.name, forKey: .name)
            try c.encode(file.timeline, forKey: .timeline)
            try c.encode(storedBytes, forKey: .storedBytes)
        }
    }

    /// What an archived object holds.
    public struct Contents: Sendable {
        public let file: WalFileName
        public let pushed: Date
        public let sha256: Digest256
        public let bytes: [UInt8]
    }

    /// Stores the file at `path` under its own name. Returns once the object is durable;
    /// succeeds without writing when an identical copy is there already.
    /// - Throws: ``WalArchiveError/conflict(_:location:)`` when a different file is
    ///   archived under the same name, ``WalArchiveError/notAWalFile(_:)`` for a name
    ///   PostgreSQL never archives, or a file-system or storage error.
    public func push(path: String, now: Date = Date(), host: String, username: String) async throws -> PushOutcome {
        let base = (path as NSString).lastPathComponent
        guard let file = WalFileName(base) else { throw WalArchiveError.notAWalFile(base) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileSystemError("read", RawPath(path), errno: errno == 0 ? ENOENT : errno)
        }
        let digest = data.withUnsafeBytes { Digest256.sha256($0) }
        return try await RepositoryLock.withLock(repository, exclusive: false, host: host, username: username) {
            if let existing = try await existingDigest(file) {
                guard existing == digest else { throw WalArchiveError.conflict(file.name, location: repository.location) }
                return .alreadyArchived
            }
            let key = try await currentKey(now: now)
            var payload = ByteWriter()
            payload.raw(Self.magic)
            payload.u16(UInt16(file.name.utf8.count))
            payload.raw(file.name.utf8)
            payload.u64(UInt64(max(0, now.timeIntervalSince1970 * 1000)))
            payload.u64(UInt64(data.count))
            payload.digest(digest)
            // From the file's bytes straight into the payload: one copy, not a per-byte append.
            payload.bytes.reserveCapacity(payload.bytes.count + data.count)
            data.withUnsafeBytes { payload.bytes.append(contentsOf: $0.bindMemory(to: UInt8.self)) }
            let sealed = SealedObject.seal(payload.bytes, kind: .wal, dataKey: key, zstd: repository.zstd)
            do {
                try await repository.backend.write(file.objectName, bytes: sealed)
            } catch StorageError.alreadyExists {
                // Another push of the same name won the race: equal content is success.
                guard try await existingDigest(file) == digest else { throw WalArchiveError.conflict(file.name, location: repository.location) }
                return .alreadyArchived
            }
            return .stored(bytes: sealed.count)
        }
    }

    /// The archived file's SHA-256, or nil when none is archived under that name.
    private func existingDigest(_ file: WalFileName) async throws -> Digest256? {
        do {
            return try await read(file).sha256
        } catch StorageError.objectNotFound {
            return nil
        }
    }

    /// Reads, authenticates and checks one archived file.
    /// - Throws: ``StorageError/objectNotFound(_:location:)`` when it is not archived;
    ///   ``RepositoryError/damaged(_:reason:)`` when it does not authenticate or check.
    public func read(_ file: WalFileName) async throws -> Contents {
        let name = file.objectName
        let sealed = try await repository.backend.read(name)
        let key = try await repository.dataKeyRefreshing(try SealedObject.keyID(of: sealed, name: name))
        let payload = try SealedObject.open(sealed, name: name, dataKey: key, zstd: repository.zstd)
        return try Self.contents(ofPayload: payload, file: file)
    }

    /// Decodes an authenticated WAL object's payload: magic, the file's own name, when it
    /// was pushed, its length and SHA-256, its bytes. Total on any input.
    /// - Throws: ``RepositoryError/damaged(_:reason:)`` when the payload is malformed, names
    ///   another file or does not match its SHA-256.
    package static func contents(ofPayload payload: [UInt8], file: WalFileName) throws -> Contents {
        let name = file.objectName
        do {
            var r = ByteReader(payload, what: name.path)
            guard Array(try r.raw(Self.magic.count)) == Self.magic else { throw RepositoryError.damaged(name, reason: "not a WAL object") }
            let nameBytes = Int(try r.u16())
            let inner = String(decoding: try r.raw(nameBytes), as: UTF8.self)
            guard inner == file.name else { throw RepositoryError.damaged(name, reason: "it holds \(inner), not \(file.name)") }
            // Milliseconds since 1970 as written by `push`; any u64 converts to a Double.
            let pushed = Date(timeIntervalSince1970: Double(try r.u64()) / 1000)
            let declared = try r.u64()
            guard declared <= UInt64(r.remaining) else { throw RepositoryError.damaged(name, reason: "it declares \(declared) bytes, more than it holds") }
            let length = Int(declared)
            let digest = try r.digest()
            let bytes = Array(try r.raw(length))
            guard Digest256.sha256(bytes) == digest else { throw RepositoryError.damaged(name, reason: "its SHA-256 does not match") }
            return Contents(file: file, pushed: pushed, sha256: digest, bytes: bytes)
        } catch let error as CryptoError {
            throw RepositoryError.damaged(name, reason: "\(error)")
        }
    }

    /// Writes an archived file to `path` (`restore_command`): to a temporary name beside
    /// it, fsynced, then renamed, so PostgreSQL never sees half a segment.
    /// - Throws: ``WalArchiveError/notArchived(_:location:)`` when it is not in the archive.
    public func fetch(_ file: WalFileName, to path: String) async throws -> Contents {
        let contents: Contents
        do {
            contents = try await read(file)
        } catch StorageError.objectNotFound {
            throw WalArchiveError.notArchived(file.name, location: repository.location)
        }
        let temporary = path + ".lifeboat-\(Digest256.random().hex.prefix(8))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSystemError("open", RawPath(temporary), errno: errno) }
        let failure: Int32? = contents.bytes.withUnsafeBytes { DurableFile.writeAll(fd, $0, at: 0) } ?? (fsync(fd) == 0 ? nil : errno)
        close(fd)
        if let failure {
            unlink(temporary)
            throw FileSystemError("write", RawPath(temporary), errno: failure)
        }
        guard rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw FileSystemError("rename", RawPath(path), errno: e)
        }
        return contents
    }

    /// `restore_command` with read-ahead: a segment found in `spool` (put there by an
    /// earlier call) is copied into place without touching the repository; otherwise it is
    /// fetched, and the next `count` segments of its timeline that are archived are fetched
    /// into `spool` too. Recovery asks for one segment at a time, each a new process that
    /// would otherwise pay the key derivation again: this pays it once per `count + 1`.
    ///
    /// `spool` must be a folder only the database's user can write (restore-db uses
    /// `pg_wal/lifeboat-prefetch` inside the data directory): what is there is trusted as
    /// pg_wal is. Spooled files of other timelines or of earlier segments are removed.
    public static func fetchSpooled(
        _ file: WalFileName, to path: String, spool: String, count: Int, now: Date = Date(), open: () async throws -> Repository
    ) async throws {
        if file.isSegment {
            clearSpool(spool, before: file)
            // A copy, not a move: recovery asks for its last segment again when it ends. Not
            // a link either: the server writes into the segment it ends recovery in.
            let spooled = spool + "/" + file.name
            if access(spooled, R_OK) == 0 {
                let temporary = path + ".lifeboat-\(Digest256.random().hex.prefix(8))"
                do {
                    try FileManager.default.copyItem(atPath: spooled, toPath: temporary)
                    if rename(temporary, path) == 0 { return }
                } catch {
                    // The spool is only a shortcut: fall through to the repository.
                }
                unlink(temporary)
            }
        }
        // Recovery asks for files that do not exist (the next timeline's history, the
        // segment after the archive's end) at its start and end. What the last look at the
        // archive found absent, a moment ago, is answered from the spool.
        if let absent = SpoolListing.load(spool, now: now), absent.names.contains(file.name) {
            throw WalArchiveError.notArchived(file.name, location: absent.location)
        }
        let archive = WalArchive(repository: try await open())
        let location = archive.repository.location
        var absent: [String] = []
        let histories = Set(try await archive.list().map(\.file.name).filter { $0.hasSuffix(".history") })
        // The next few timelines' history files, as recovery probes for them.
        for timeline in file.timeline...(file.timeline + 3) {
            let name = WalFileName.hex8(UInt64(timeline)) + ".history"
            if !histories.contains(name) { absent.append(name) }
        }
        let contents: Contents
        do {
            contents = try await archive.fetch(file, to: path)
        } catch WalArchiveError.notArchived {
            SpoolListing(names: absent + [file.name], location: location).save(spool, now: now)
            throw WalArchiveError.notArchived(file.name, location: location)
        }
        defer { SpoolListing(names: absent, location: location).save(spool, now: now) }
        guard file.isSegment, count > 0, contents.bytes.count > 0, contents.bytes.count & (contents.bytes.count - 1) == 0,
            let number = file.segmentNumber(segmentBytes: UInt64(contents.bytes.count))
        else { return }
        let segmentBytes = UInt64(contents.bytes.count)
        if mkdir(spool, 0o700) != 0 && errno != EEXIST { return }  // no spool: recovery still works, one fetch at a time
        // The segment itself too, for the request that comes again when recovery ends.
        try? FileManager.default.copyItem(atPath: path, toPath: spool + "/" + file.name)  // only a shortcut
        for next in (number + 1)...(number + UInt64(count)) {
            let name = WalFileName(timeline: file.timeline, segmentNumber: next, segmentBytes: segmentBytes)
            if access(spool + "/" + name.name, F_OK) == 0 { continue }
            do {
                _ = try await archive.fetch(name, to: spool + "/" + name.name)
            } catch WalArchiveError.notArchived {
                absent.append(name.name)
                break  // the end of the archive
            }
        }
    }

    /// Names the last look at the archive found absent, kept in the spool for
    /// ``SpoolListing/freshness`` so that recovery's probes for them need no repository.
    struct SpoolListing: Codable {
        var names: [String]
        var location: String
        var written: Date = Date()
        static let fileName = ".absent.json"
        /// Long enough for one recovery's probes, short enough that a file archived since is found.
        static let freshness: TimeInterval = 10

        static func load(_ spool: String, now: Date) -> SpoolListing? {
            guard let data = FileManager.default.contents(atPath: spool + "/" + fileName),
                let listing = try? JSONDecoder().decode(SpoolListing.self, from: data),  // unreadable: as if absent
                now.timeIntervalSince(listing.written) >= 0, now.timeIntervalSince(listing.written) < freshness
            else { return nil }
            return listing
        }

        func save(_ spool: String, now: Date) {
            var copy = self
            copy.written = now
            guard mkdir(spool, 0o700) == 0 || errno == EEXIST, let data = try? JSONEncoder().encode(copy) else { return }
            // Only a shortcut: when it cannot be written, the next request asks the repository.
            try? data.write(to: URL(fileURLWithPath: spool + "/" + Self.fileName), options: .atomic)
        }
    }

    /// Removes spooled segments that recovery has passed or that belong to another timeline.
    static func clearSpool(_ spool: String, before file: WalFileName) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: spool) else { return }
        for name in names {
            guard let spooled = WalFileName(name) else {
                if name.contains(".lifeboat-") { unlink(spool + "/" + name) }  // a temporary file of an interrupted fetch
                continue
            }
            if spooled.timeline != file.timeline || spooled.name < file.name { unlink(spool + "/" + name) }
        }
    }

    /// Everything archived, in name order (timeline first, then position).
    public func list() async throws -> [Entry] {
        try await listing().entries
    }

    /// Everything archived, and the keys under `wal/` that are no WAL object (never used).
    public func listing() async throws -> (entries: [Entry], rejected: [RejectedObjectKey]) {
        let listing = try await repository.backend.listing(.wal)
        return (Self.entries(listing.objects), listing.rejected)
    }

    /// The archived files among a listing of `wal/`, in order.
    static func entries(_ objects: [ObjectInfo]) -> [Entry] {
        objects.compactMap { info -> Entry? in
            let parts = info.name.name.split(separator: "/")
            // Anything else in wal/ is not ours; `check` is where it gets reported.
            guard parts.count == 2, let file = WalFileName(String(parts[1])), file.objectName == info.name else { return nil }
            return Entry(file: file, storedBytes: info.sizeBytes)
        }.sorted { $0.file < $1.file }
    }

    /// The WAL data key to seal with now: the newest made within ``keyLifetime``, or a new one.
    private func currentKey(now: Date) async throws -> DataKey {
        if let recent = recentKey(now: now) { return recent }
        // Before making one, read what was written since this process opened the repository:
        // another push's key, or a WAL key-encryption key the new key needs a copy under.
        try await repository.refreshDataKeys()
        if let recent = recentKey(now: now) { return recent }
        return try await repository.createDataKey(now: now, purpose: DataKey.walPurpose)
    }

    private func recentKey(now: Date) -> DataKey? {
        repository.allDataKeys.filter {
            repository.dataKeyRing.isUsableForWal($0) && ($0.created.map { now.timeIntervalSince($0) < Self.keyLifetime && $0 <= now } ?? false)
        }.max { $0.created! < $1.created! }
    }
}

/// Failures of WAL archiving and of the PostgreSQL commands built on it.
public enum WalArchiveError: Error, Sendable, CustomStringConvertible {
    case notAWalFile(String)
    case conflict(String, location: String)
    case notArchived(String, location: String)

    public var description: String {
        switch self {
        case .notAWalFile(let n):
            return "\(n) is not a name PostgreSQL archives (a WAL segment, .history, .backup or .partial file)"
        case .conflict(let n, let l):
            return "\(l) already archives a different \(n): two clusters may be archiving into one repository; give each its own"
        case .notArchived(let n, let l):
            return "\(n) is not archived in \(l)"
        }
    }
}
