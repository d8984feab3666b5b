import Foundation

/// The plaintext `config` object: what a reader needs before it has any key.
public struct RepositoryConfig: Codable, Sendable {
    public static let currentVersion = 1

    public var format: String
    public var version: Int
    public var id: String
    public var created: Date
    public var chunker: ChunkerParameters
    public var packTargetBytes: Int

    public struct ChunkerParameters: Codable, Sendable, Equatable {
        public var algorithm: String
        public var minChunkBytes: Int
        public var averageChunkBytes: Int
        public var maxChunkBytes: Int

        public static let standard = ChunkerParameters(
            algorithm: "fastcdc-gear-hmac-sha256", minChunkBytes: 512 << 10, averageChunkBytes: 1 << 20, maxChunkBytes: 8 << 20)
    }

    /// What is wrong with values read from storage, or nil; a chunker or pack size out of
    /// range would otherwise stop the process.
    var problem: String? {
        let c = chunker
        guard c.averageChunkBytes > 0, c.averageChunkBytes & (c.averageChunkBytes - 1) == 0 else { return "average chunk size is not a power of two" }
        guard c.minChunkBytes >= 64, c.minChunkBytes < c.averageChunkBytes, c.averageChunkBytes < c.maxChunkBytes,
            c.maxChunkBytes <= 64 << 20
        else { return "chunk sizes out of range" }
        guard packTargetBytes >= 1 << 20, packTargetBytes <= 1 << 30 else { return "pack size out of range" }
        return nil
    }

    public static func new(created: Date) -> RepositoryConfig {
        RepositoryConfig(
            format: "lifeboat-repository", version: currentVersion, id: Digest256.random().hex, created: created,
            chunker: .standard, packTargetBytes: 16 << 20)
    }
}
