import Foundation

/// `prune --json` and `forget --prune --json` (docs/cli.md).
extension Pruner.Report: Encodable {
    enum CodingKeys: String, CodingKey {
        case dryRun, packsKept, packsDeleted, packsRepacked, packsWritten, unindexedPacksDeleted, blobsRemoved, bytesBefore, bytesAfter
        case walFilesDeleted, walBytesDeleted, temporariesRemoved, youngPacksSpared, unusedBytesKept
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(isDryRun, forKey: .dryRun)
        try c.encode(packsKept, forKey: .packsKept)
        try c.encode(packsDeleted, forKey: .packsDeleted)
        try c.encode(packsRepacked, forKey: .packsRepacked)
        try c.encode(packsWritten, forKey: .packsWritten)
        try c.encode(unindexedPacksDeleted, forKey: .unindexedPacksDeleted)
        try c.encode(blobsRemoved, forKey: .blobsRemoved)
        try c.encode(bytesBefore, forKey: .bytesBefore)
        try c.encode(bytesAfter, forKey: .bytesAfter)
        try c.encode(walFilesDeleted, forKey: .walFilesDeleted)
        try c.encode(walBytesDeleted, forKey: .walBytesDeleted)
        try c.encode(temporariesRemoved, forKey: .temporariesRemoved)
        try c.encode(youngPacksSpared, forKey: .youngPacksSpared)
        try c.encode(unusedBytesKept, forKey: .unusedBytesKept)
    }
}
