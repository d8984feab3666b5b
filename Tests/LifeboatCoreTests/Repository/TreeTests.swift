import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("Tree")
struct TreeTests {
    static let someID = BlobID(Digest256([UInt8](repeating: 7, count: 32)))

    static func node(mtime: FileTime, ctime: FileTime) -> Node {
        Node(
            nameBytes: Array("f".utf8), type: .file, mode: 0o644, uid: 0, gid: 0, mtime: mtime, ctime: ctime, sizeBytes: 0, inode: 1, device: 1,
            linkCount: 1)
    }

    /// The ends of `i64`, the seconds around zero and the time, which wrapped to `Int64.min`.
    static let extremes: [Int64] = [
        .min, .min + 1, .min + 999_999_999, -1_000_000_001, -1_000_000_000, -999_999_999, -1, 0, 1, 999_999_999, 1_000_000_000, .max - 1, .max,
    ]

    @Test("a stored time decodes from every i64 without trapping, to the same instant", arguments: extremes)
    func storedTimesDecode(total: Int64) throws {
        let t = FileTime(totalNanoseconds: total)
        #expect((0..<1_000_000_000).contains(t.nanoseconds))
        #expect(Int128(t.seconds) * 1_000_000_000 + Int128(t.nanoseconds) == Int128(total))
        #expect(t.totalNanoseconds == total)
        #expect(t.isRecordable)

        // Through the bytes of a tree blob and through JSON, the two places a time is stored.
        var bytes = Tree(nodes: [Self.node(mtime: t, ctime: t)]).encoded()
        let decoded = try Tree.decode(bytes, id: Self.someID)
        #expect(decoded.nodes[0].mtime == t && decoded.nodes[0].ctime == t)
        #expect(decoded.encoded() == bytes)
        #expect(try JSONDecoder().decode(FileTime.self, from: JSONEncoder().encode(t)) == t)

        // The i64 written by any writer, not only by this one: the mtime field patched in place.
        let mtimeOffset = 4 + 1 + 4 + 2 + 1 + 1 + 1 + 4 + 4 + 4
        withUnsafeBytes(of: total.littleEndian) { bytes.replaceSubrange(mtimeOffset..<(mtimeOffset + 8), with: $0) }
        #expect(try Tree.decode(bytes, id: Self.someID).nodes[0].mtime == t)
    }

    @Test("a time beyond what a tree holds encodes as the nearest end, not as a wrapped value")
    func unrecordableTimesSaturate() throws {
        // 2262-04-11T23:47:16.854775808Z: one nanosecond past Int64.max, the time the issue names.
        let past = FileTime(seconds: 9_223_372_036, nanoseconds: 854_775_808)
        #expect(!past.isRecordable)
        #expect(past.clampedToRecordable == FileTime.latestRecordable)
        #expect(past.totalNanoseconds == .max)
        let cases: [(FileTime, Int64)] = [
            (FileTime(seconds: .max, nanoseconds: .max), .max),
            (FileTime(seconds: .min, nanoseconds: .min), .min),
            (FileTime(seconds: -9_223_372_037, nanoseconds: 0), .min),
            (FileTime(seconds: 0, nanoseconds: -5), 0),
            (FileTime(seconds: 0, nanoseconds: 2_000_000_000), 999_999_999),
        ]
        for (time, total) in cases {
            #expect(time.totalNanoseconds == total, "\(time)")
            let decoded = try Tree.decode(Tree(nodes: [Self.node(mtime: time, ctime: time)]).encoded(), id: Self.someID)
            #expect(decoded.nodes[0].mtime == FileTime(totalNanoseconds: total))
        }
    }

    @Test("damaged tree bytes are refused with an error, never a trap (seeded mutations, seed 11)")
    func mutatedTreesNeverTrap() throws {
        var rng = SeededBytes(seed: 11)
        let t = FileTime(seconds: 1_700_000_000, nanoseconds: 5)
        var link = Self.node(mtime: t, ctime: t)
        link.nameBytes = Array("l".utf8)
        link.type = .symlink
        link.linkTarget = Array("target".utf8)
        var dev = Self.node(mtime: t, ctime: t)
        dev.nameBytes = Array("d".utf8)
        dev.type = .characterDevice
        dev.deviceNumber = 0x0103
        dev.xattrs = [ExtendedAttribute(name: "user.a", value: Data([1, 2, 3]))]
        let valid = Tree(nodes: [Self.node(mtime: t, ctime: t), link, dev]).encoded()
        var accepted = 0
        for _ in 0..<5000 {
            var bytes = valid
            for _ in 0..<(1 + Int(rng.next() % 4)) where !bytes.isEmpty {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[at] = [0x00, 0xff, 0x7f, 0x80][Int(rng.next() % 4)]
                default: bytes.removeSubrange(at...)
                }
            }
            if (try? Tree.decode(bytes, id: Self.someID)) != nil { accepted += 1 }  // either outcome is fine: only a trap is not
        }
        #expect(accepted < 5000)
    }
}
