import Foundation
import LifeboatCore

extension FuzzTarget {
    /// Well-formed inputs to start the fuzzer from, made with the engine's own encoders
    /// (or, for sealed JSON, opened from the committed version-1 fixture repository), so
    /// that the fuzzer begins deep inside each format instead of at its magic bytes.
    /// - Parameter fixture: an open fixture repository, for the snapshot seed.
    public func seeds(fixture: Repository) async throws -> [[UInt8]] {
        switch self {
        case .tree:
            return [Self.sampleTree().encoded(), Tree(nodes: []).encoded()]
        case .packHeader:
            var w = ByteWriter()
            w.raw(Pack.headerMagic)
            w.u32(2)
            for (type, sealed, plain) in [(UInt8(0), UInt32(1_200), UInt32(4_096)), (1, 300, 250)] {
                w.u8(type)
                w.u8(type == 0 ? 1 : 0)
                w.raw(Array(repeating: type &+ 0x11, count: 32))
                w.u32(sealed)
                w.u32(plain)
            }
            return [w.bytes]
        case .indexSegment:
            var w = ByteWriter()
            w.raw(Array("LBIX".utf8))
            w.u8(1)
            w.u32(1)
            w.raw(Array(repeating: 0x21, count: 32))
            w.raw(Array(repeating: 0x22, count: 32))
            w.u64(1_536)
            w.u32(2)
            for (type, offset) in [(UInt8(0), UInt32(0)), (1, 1_200)] {
                w.u8(type)
                w.u8(1)
                w.raw(Array(repeating: type &+ 0x31, count: 32))
                w.u32(offset)
                w.u32(1_200)
                w.u32(4_096)
            }
            return [w.bytes]
        case .sealedObject:
            let payload = Array(String(repeating: "an index segment or a snapshot ", count: 40).utf8)
            var plain: [UInt8] = [0]
            withUnsafeBytes(of: UInt32(payload.count).littleEndian) { plain.append(contentsOf: $0) }
            plain.append(contentsOf: payload)
            plain.append(contentsOf: repeatElement(0, count: 17))
            var compressed = payload.withUnsafeBytes { Zstd().compressed($0, prefixBytes: 5) }!
            compressed[0] = 1
            withUnsafeBytes(of: UInt32(compressed.count - 5).littleEndian) { compressed.replaceSubrange(1..<5, with: $0) }
            return [plain, compressed]
        case .walObject:
            let segment = Array(repeating: UInt8(0x5a), count: 512)
            var w = ByteWriter()
            w.raw(WalArchive.magic)
            let name = Array("000000010000000000000001".utf8)
            w.u16(UInt16(name.count))
            w.raw(name)
            w.u64(1_790_000_000_000)
            w.u64(UInt64(segment.count))
            w.raw(segment.withUnsafeBytes { Digest256.sha256($0) }.bytes)
            w.raw(segment)
            return [w.bytes]
        case .snapshot:
            let snapshots = try await fixture.backend.list(.snapshots)
            return try await snapshots.asyncMap { try await fixture.loadSealed($0.name) }
        case .keyFile:
            let key = try KeyFile.make(
                masterKey: .generate(), passphrase: "seed", parameters: KDFParameters(n: 1 << 10, r: 8, p: 1), host: "seed-host",
                username: "seed", created: Date(timeIntervalSince1970: 1_790_000_000))
            return [JSONCoding.encode(key)]
        case .mediumManifest:
            var manifest = MediumManifest(label: "offsite-1", repository: String(repeating: "12", count: 32), created: Date(timeIntervalSince1970: 1_790_000_000))
            manifest.snapshots = [String(repeating: "34", count: 32)]
            return [JSONCoding.encode(manifest)]
        case .s3Listing:
            return [Array(Self.sampleListing.utf8), Array("<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>".utf8)]
        case .configuration:
            return [Array(Self.sampleConfiguration.utf8)]
        case .cron:
            return ["0 2 * * 0", "0 */4 * * *", "*/15 9-17 * JAN-MAR MON-FRI", "@weekly", "5,10,15 0 1,15 * *"].map { Array($0.utf8) }
        }
    }

    private static func sampleTree() -> Tree {
        let time = FileTime(seconds: 1_706_933_106, nanoseconds: 123_456_789)
        let blob = BlobID(hex: String(repeating: "5e", count: 32))!
        return Tree(nodes: [
            Node(
                nameBytes: Array("blob.bin".utf8), type: .file, mode: 0o644, uid: 0, gid: 0, mtime: time, ctime: time, sizeBytes: 700_000,
                inode: 12, device: 2049, linkCount: 1, content: [blob, blob],
                xattrs: [ExtendedAttribute(name: "user.origin", value: Data("seed".utf8))]),
            Node(
                nameBytes: Array("docs".utf8), type: .directory, mode: 0o755, uid: 0, gid: 0, mtime: time, ctime: time, sizeBytes: 0,
                inode: 13, device: 2049, linkCount: 2, subtree: blob),
            Node(
                nameBytes: Array("link".utf8), type: .symlink, mode: 0o777, uid: 0, gid: 0, mtime: time, ctime: time, sizeBytes: 8,
                inode: 14, device: 2049, linkCount: 1, linkTarget: Array("blob.bin".utf8)),
            Node(
                nameBytes: Array("null".utf8), type: .characterDevice, mode: 0o666, uid: 0, gid: 0, mtime: time, ctime: time,
                sizeBytes: 0, inode: 15, device: 2049, linkCount: 1, deviceNumber: 0x0103),
        ])
    }

    private static let sampleListing = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>backups</Name><Prefix>app/wal/</Prefix>\
        <KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>\
        <Contents><Key>app/wal/0000000000000001/000000010000000000000001</Key><Size>16777216</Size></Contents>\
        <Contents><Key>app/wal/0000000000000001/000000010000000000000002</Key><Size>1024</Size></Contents>\
        <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>
        """

    private static let sampleConfiguration = """
        locations:
          - { name: primary, role: PRIMARY, path: /srv/backup/repo, retention: { keepDaily: 7, keepWeekly: 4 } }
          - { name: cloud, role: SECONDARY, path: "s3://backups/app" }
          - { name: usb, role: TERTIARY, path: /mnt/usb1/lifeboat, medium: offsite-1 }
        sources:
          - { name: app-db, kind: sqlite, path: /srv/app/app.db }
          - { name: main, kind: postgres, url: "postgresql://postgres@127.0.0.1/postgres", passwordEnv: PGPASSWORD }
          - { name: app-config, kind: files, paths: [/etc/app] }
        schedules:
          - { source: main, type: FULL, cron: "0 2 * * 0" }
          - { source: main, type: TRANSACTION_LOG, cron: "0 */4 * * *" }
        catalog: { sqlite: /var/lib/lifeboat/catalog.sqlite }
        passphrase: { file: /etc/lifeboat/passphrase }
        """
}

extension Sequence {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}

extension FuzzTarget {
    /// Opens the committed fixture repository read-only, for ``seeds(fixture:)``.
    public static func openFixture(path: String, passphrase: String) async throws -> Repository {
        try await Repository.open(backend: try LocalDirectoryBackend(path: path), passphrase: passphrase)
    }
}
