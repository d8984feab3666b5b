import Foundation
import LifeboatCore
import LifeboatOperations
import NIOCore

/// One parser of bytes that come from storage or from users, as a fuzzer drives it.
///
/// Each target hands its input to the same function the engine uses on what it reads,
/// after authentication where there is one: a storage provider cannot forge sealed bytes,
/// but a decoder must still be total, so that a bug in a writer, a bit flip under the
/// tag's reach or a future format can never crash a backup, a check or a restore. An
/// error is an answer; only a trap, a hang or an allocation the input does not justify
/// is a finding. Where an encoder exists, what was decoded must encode back to bytes
/// that decode to the same value.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case tree
    case packHeader = "pack-header"
    case indexSegment = "index-segment"
    case sealedObject = "sealed-object"
    case walObject = "wal-object"
    case snapshot
    case keyFile = "key-file"
    case mediumManifest = "medium-manifest"
    case s3Listing = "s3-listing"
    case configuration = "lifeboat-yaml"
    case cron

    /// Runs the target's parser over `input`.
    public func run(_ input: [UInt8]) {
        switch self {
        case .tree: Self.tree(input)
        case .packHeader: Self.packHeader(input)
        case .indexSegment: Self.indexSegment(input)
        case .sealedObject: Self.sealedObject(input)
        case .walObject: Self.walObject(input)
        case .snapshot: Self.json(Snapshot.self, input)
        case .keyFile: Self.keyFile(input)
        case .mediumManifest: Self.json(MediumManifest.self, input)
        case .s3Listing: Self.s3Listing(input)
        case .configuration: Self.configuration(input)
        case .cron: Self.cron(input)
        }
    }

    // Every `try?` below: the parser's error is a valid answer to hostile input; the
    // fuzzer looks for traps, hangs and allocations, not for errors.

    // Constants, not input: the names the parsers report errors under.
    private static let someDigest = Digest256(hex: String(repeating: "ab", count: 32))!
    private static let someBlob = BlobID(someDigest)
    private static let zstd = Zstd()

    private static func tree(_ input: [UInt8]) {
        guard let tree = try? Tree.decode(input, id: someBlob) else { return }
        let again = try? Tree.decode(tree.encoded(), id: someBlob)
        precondition(again == tree, "a decoded tree does not survive encoding and decoding again")
    }

    private static func packHeader(_ input: [UInt8]) {
        _ = try? Pack.parseHeader(input, name: ObjectName(.data, someDigest))
    }

    private static func indexSegment(_ input: [UInt8]) {
        guard let segment = try? IndexSegment.decode(input, what: "fuzzed index segment") else { return }
        let once = segment.encoded()
        let twice = try? IndexSegment.decode(once, what: "re-encoded index segment").encoded()
        precondition(twice == once, "a decoded index segment does not survive encoding and decoding again")
    }

    private static func sealedObject(_ input: [UInt8]) {
        for name in [ObjectName(.index, someDigest), ObjectName(.snapshots, someDigest), someWalFile.objectName] {
            _ = try? SealedObject.payload(ofPlaintext: input, name: name, zstd: zstd)
        }
    }

    private static let someWalFile = WalFileName("000000010000000000000001")!

    private static func walObject(_ input: [UInt8]) {
        _ = try? WalArchive.contents(ofPayload: input, file: someWalFile)
    }

    private static func json<T: Decodable>(_ type: T.Type, _ input: [UInt8]) {
        _ = try? JSONCoding.decode(type, from: input, what: "fuzzed \(type)")
    }

    private static func keyFile(_ input: [UInt8]) {
        // Decoding and the parameters' check only: deriving a key is what the check guards.
        guard let file = try? JSONCoding.decode(KeyFile.self, from: input, what: "fuzzed key file") else { return }
        _ = try? file.kdfParameters.validate()
    }

    private static func s3Listing(_ input: [UInt8]) {
        _ = S3XML.ListPage.parse(ByteBuffer(bytes: input))
        _ = S3XML.errorCode(ByteBuffer(bytes: input))
    }

    private static func configuration(_ input: [UInt8]) {
        _ = try? LifeboatConfiguration.decode(String(decoding: input, as: UTF8.self), file: "fuzzed.yaml")
    }

    private static let someInstant = Date(timeIntervalSince1970: 1_790_000_000)

    private static func cron(_ input: [UInt8]) {
        guard let expression = try? CronExpression(String(decoding: input, as: UTF8.self)) else { return }
        _ = expression.next(after: someInstant)
    }
}
