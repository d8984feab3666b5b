import Foundation

/// Copies a repository's objects from one location to another, byte for byte (same
/// format, same keys: nothing is decrypted), and verifies each copy by reading it back
/// and checking its SHA-256 against its name.
///
/// Objects the destination already has (same name and size) are skipped, so an
/// interrupted replication resumes without sending again what arrived; since every write
/// is atomic, a half-sent object never exists under its name. Order: keys, data keys,
/// packs, index, snapshots, and `config` last, so that a destination is a complete
/// repository only once everything it needs is there. Locks are never copied. Only valid
/// object names are copied (``ObjectListing``): a source listing a key like
/// `wal/00000001/../../etc/cron.d/x` gets it reported in ``Report/rejected``, and nothing
/// is written anywhere for it.
public struct Replicator: Sendable {
    public let source: any StorageBackend
    public let destination: any StorageBackend
    public var width = 4
    /// Counts the objects (and their bytes) copied, kind by kind, for a progress display.
    public var progress: ProgressMeter?

    public init(source: any StorageBackend, destination: any StorageBackend) {
        self.source = source
        self.destination = destination
    }

    public struct Report: Sendable {
        public var objectsCopied = 0
        public var objectsPresent = 0
        public var bytesCopied: Int64 = 0
        /// Keys in the source that are no valid object name (a path out of its folder, a
        /// link): never read nor copied, reported so the source can be looked at.
        public var rejected: [RejectedObjectKey] = []
    }

    public static let order: [ObjectKind] = [.keys, .dataKeys, .data, .index, .snapshots, .wal]

    /// - Parameters:
    ///   - include: which objects to copy (all by default); `config` always goes.
    ///   - writeConfig: false when the caller adds objects of its own and writes `config` last itself.
    public func replicate(include: @Sendable (ObjectName) -> Bool = { _ in true }, writeConfig: Bool = true) async throws -> Report {
        let sourceConfig = try await Repository.readConfig(source)
        if let existing = try? await Repository.readConfig(destination), existing.id != sourceConfig.id {
            throw ReplicationError.differentRepository(destination.locationDescription, existing.id, sourceConfig.id)
        }
        var report = Report()
        // Everything to copy is listed first, so that the progress has its totals.
        var plan: [(kind: ObjectKind, todo: [ObjectInfo])] = []
        for kind in Self.order {
            let present = Dictionary(try await destination.list(kind).map { ($0.name, $0.sizeBytes) }, uniquingKeysWith: { a, _ in a })
            var todo: [ObjectInfo] = []
            let listing = try await source.listing(kind)
            report.rejected += listing.rejected
            for info in listing.objects where include(info.name) {
                if present[info.name] == info.sizeBytes { report.objectsPresent += 1 } else { todo.append(info) }
            }
            plan.append((kind, todo))
        }
        let all = plan.flatMap(\.todo)
        progress?.start("copying objects", items: Int64(all.count), bytes: all.reduce(0) { $0 + Int64($1.sizeBytes) })
        for (_, todo) in plan {
            try await withThrowingTaskGroup(of: Int.self) { group in
                var iterator = todo.makeIterator()
                var running = 0
                while true {
                    while running < width, let info = iterator.next() {
                        try Task.checkCancellation()
                        running += 1
                        group.addTask { try await copy(info.name) }
                    }
                    guard running > 0, let bytes = try await group.next() else { break }
                    running -= 1
                    report.objectsCopied += 1
                    report.bytesCopied += Int64(bytes)
                    progress?.add(items: 1, bytes: Int64(bytes))
                }
            }
        }
        if writeConfig, !(try await destination.exists(.config)) {
            _ = try await copy(.config)  // counted as an object; its few bytes are not the data copied
            report.objectsCopied += 1
        }
        return report
    }

    /// Copies one object and checks the copy; returns its size.
    func copy(_ name: ObjectName) async throws -> Int {
        let bytes = try await source.read(name)
        let isNamedByHash = ObjectKind.contentAddressed.contains(name.kind)
        if isNamedByHash && Digest256.sha256(bytes).hex != name.name {
            throw ReplicationError.damagedSource(name, source.locationDescription)
        }
        do {
            try await destination.write(name, bytes: bytes)
        } catch StorageError.alreadyExists {
            // Written meanwhile (or a different size was listed): the check below decides.
        }
        let back = try await destination.read(name)
        guard back.count == bytes.count, isNamedByHash ? Digest256.sha256(back).hex == name.name : back == bytes else {
            throw ReplicationError.copyDiffers(name, destination.locationDescription)
        }
        return bytes.count
    }
}

extension Replicator {
    /// Copies a repository to a location under a shared lock (a prune cannot delete packs
    /// while they are copied); for a removable medium, its manifest is brought up to date
    /// afterwards so the medium can be checked alone later.
    public static func copy(
        _ repository: Repository, to destination: any StorageBackend, medium: String?, host: String, username: String, progress: ProgressMeter? = nil
    ) async throws -> Report {
        let report = try await RepositoryLock.withLock(repository, exclusive: false, host: host, username: username) {
            var replicator = Replicator(source: repository.backend, destination: destination)
            replicator.progress = progress
            return try await replicator.replicate()
        }
        if let medium {
            var manifest =
                try await MediumManifest.load(from: destination)
                ?? MediumManifest(label: medium, repository: repository.config.id, created: Date())
            manifest.label = medium
            manifest.snapshots = try await repository.snapshots().map(\.id.hex)
            try await manifest.record(destination)
            try await manifest.save(to: destination)
        }
        return report
    }
}

public enum ReplicationError: Error, Sendable, CustomStringConvertible {
    case differentRepository(String, String, String)
    case damagedSource(ObjectName, String)
    case copyDiffers(ObjectName, String)

    public var description: String {
        switch self {
        case .differentRepository(let l, let there, let here):
            return "\(l) holds another repository (\(there.prefix(8)), not \(here.prefix(8))): choose an empty location or that repository's own copy"
        case .damagedSource(let n, let l):
            return "object \(n) in \(l) does not match its name: it is damaged; check that repository reading all its data first"
        case .copyDiffers(let n, let l):
            return "the copy of \(n) in \(l) reads back different: the location is faulty; nothing is taken as replicated"
        }
    }
}
