/// What a blob holds: file content or a directory's tree.
public enum BlobType: UInt8, Sendable, Codable {
    case data = 0
    case tree = 1
}

/// Where one blob lives: its pack, its place in it and how to open it.
public struct BlobLocation: Sendable, Hashable {
    public let type: BlobType
    public let id: BlobID
    public let pack: PackID
    public let dataKey: DataKeyID
    public let offset: Int
    public let sealedBytes: Int
    public let plainBytes: Int
    public let isCompressed: Bool

    public init(
        type: BlobType, id: BlobID, pack: PackID, dataKey: DataKeyID, offset: Int, sealedBytes: Int, plainBytes: Int,
        isCompressed: Bool
    ) {
        self.type = type
        self.id = id
        self.pack = pack
        self.dataKey = dataKey
        self.offset = offset
        self.sealedBytes = sealedBytes
        self.plainBytes = plainBytes
        self.isCompressed = isCompressed
    }
}
