import Foundation

/// One directory: its entries sorted by the bytes of their names. Stored as one tree
/// blob, encoded as JSON with sorted keys so that an unchanged directory encodes to the
/// same bytes, hence the same blob id, in every snapshot.
public struct Tree: Codable, Sendable, Equatable {
    public var nodes: [Node]

    public init(nodes: [Node]) {
        self.nodes = nodes.sorted { $0.nameBytes.lexicographicallyPrecedes($1.nameBytes) }
    }

    public func node(named name: [UInt8]) -> Node? {
        // Binary search: trees are sorted by name bytes.
        var lo = 0
        var hi = nodes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let n = nodes[mid].nameBytes
            if n == name { return nodes[mid] }
            if n.lexicographicallyPrecedes(name) { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    func encoded() -> [UInt8] { JSONCoding.encode(self) }

    static func decode(_ bytes: [UInt8], id: BlobID) throws -> Tree {
        try JSONCoding.decode(Tree.self, from: bytes, what: "tree \(id.shortHex)")
    }
}

/// The kinds of filesystem entry a tree records.
public enum NodeType: String, Codable, Sendable {
    case file, directory, symlink, fifo, socket
    case characterDevice = "chardev"
    case blockDevice = "blockdev"
}

/// One entry of a directory, with everything needed to restore it faithfully.
public struct Node: Codable, Sendable, Equatable {
    /// The name as bytes: file names on Linux need not be UTF-8.
    public var nameBytes: [UInt8]
    public var type: NodeType
    /// Permission bits including setuid, setgid and sticky (mode & 0o7777).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var mtime: FileTime
    /// Recorded to notice changes (restore cannot set it); access times are not kept, so
    /// that reading a file does not make its directory's tree blob new.
    public var ctime: FileTime
    public var sizeBytes: UInt64
    public var inode: UInt64
    public var device: UInt64
    public var linkCount: UInt64
    /// Files: the blob ids of the content, in order.
    public var content: [BlobID]
    /// Directories: the tree blob of the directory.
    public var subtree: BlobID?
    /// Symlinks: the target, as bytes.
    public var linkTarget: [UInt8]?
    /// Devices: the device number.
    public var deviceNumber: UInt64?
    /// Extended attributes, sorted by name.
    public var xattrs: [ExtendedAttribute]

    public var name: String { String(decoding: nameBytes, as: UTF8.self) }

    public init(
        nameBytes: [UInt8], type: NodeType, mode: UInt32, uid: UInt32, gid: UInt32, mtime: FileTime, ctime: FileTime,
        sizeBytes: UInt64, inode: UInt64, device: UInt64, linkCount: UInt64, content: [BlobID] = [],
        subtree: BlobID? = nil, linkTarget: [UInt8]? = nil, deviceNumber: UInt64? = nil, xattrs: [ExtendedAttribute] = []
    ) {
        self.nameBytes = nameBytes
        self.type = type
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.ctime = ctime
        self.sizeBytes = sizeBytes
        self.inode = inode
        self.device = device
        self.linkCount = linkCount
        self.content = content
        self.subtree = subtree
        self.linkTarget = linkTarget
        self.deviceNumber = deviceNumber
        self.xattrs = xattrs
    }

    enum CodingKeys: String, CodingKey {
        case name, nameB64, type, mode, uid, gid, mtime, ctime, size, inode, device, links, content, subtree
        case linkTarget, linkTargetB64, rdev, xattrs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nameBytes = try Self.decodeBytes(c, text: .name, base64: .nameB64) ?? []
        type = try c.decode(NodeType.self, forKey: .type)
        mode = try c.decode(UInt32.self, forKey: .mode)
        uid = try c.decode(UInt32.self, forKey: .uid)
        gid = try c.decode(UInt32.self, forKey: .gid)
        mtime = try c.decode(FileTime.self, forKey: .mtime)
        ctime = try c.decode(FileTime.self, forKey: .ctime)
        sizeBytes = try c.decodeIfPresent(UInt64.self, forKey: .size) ?? 0
        inode = try c.decode(UInt64.self, forKey: .inode)
        device = try c.decode(UInt64.self, forKey: .device)
        linkCount = try c.decode(UInt64.self, forKey: .links)
        if let packed = try c.decodeIfPresent(Data.self, forKey: .content) {
            guard packed.count % 32 == 0 else {
                throw DecodingError.dataCorruptedError(forKey: .content, in: c, debugDescription: "content is not a list of 32-byte ids")
            }
            content = stride(from: 0, to: packed.count, by: 32).map { BlobID(Digest256(packed[packed.startIndex + $0..<packed.startIndex + $0 + 32])) }
        } else {
            content = []
        }
        subtree = try c.decodeIfPresent(BlobID.self, forKey: .subtree)
        linkTarget = try Self.decodeBytes(c, text: .linkTarget, base64: .linkTargetB64)
        deviceNumber = try c.decodeIfPresent(UInt64.self, forKey: .rdev)
        xattrs = try c.decodeIfPresent([ExtendedAttribute].self, forKey: .xattrs) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try Self.encodeBytes(nameBytes, &c, text: .name, base64: .nameB64)
        try c.encode(type, forKey: .type)
        try c.encode(mode, forKey: .mode)
        try c.encode(uid, forKey: .uid)
        try c.encode(gid, forKey: .gid)
        try c.encode(mtime, forKey: .mtime)
        try c.encode(ctime, forKey: .ctime)
        if type == .file { try c.encode(sizeBytes, forKey: .size) }
        try c.encode(inode, forKey: .inode)
        try c.encode(device, forKey: .device)
        try c.encode(linkCount, forKey: .links)
        if !content.isEmpty {
            // 32 bytes per id, base64: a 100 MiB database in 4 KiB pages has 25,600 of them.
            var packed = [UInt8]()
            packed.reserveCapacity(content.count * 32)
            for id in content { id.digest.append(to: &packed) }
            try c.encode(Data(packed), forKey: .content)
        }
        try c.encodeIfPresent(subtree, forKey: .subtree)
        if let linkTarget { try Self.encodeBytes(linkTarget, &c, text: .linkTarget, base64: .linkTargetB64) }
        try c.encodeIfPresent(deviceNumber, forKey: .rdev)
        if !xattrs.isEmpty { try c.encode(xattrs, forKey: .xattrs) }
    }

    /// Text when the bytes are UTF-8 (readable JSON), base64 in a sibling key otherwise.
    private static func encodeBytes(_ b: [UInt8], _ c: inout KeyedEncodingContainer<CodingKeys>, text: CodingKeys, base64: CodingKeys) throws {
        if let s = String(validating: b, as: UTF8.self) {
            try c.encode(s, forKey: text)
        } else {
            try c.encode(Data(b), forKey: base64)
        }
    }

    private static func decodeBytes(_ c: KeyedDecodingContainer<CodingKeys>, text: CodingKeys, base64: CodingKeys) throws -> [UInt8]? {
        if let s = try c.decodeIfPresent(String.self, forKey: text) { return Array(s.utf8) }
        if let d = try c.decodeIfPresent(Data.self, forKey: base64) { return Array(d) }
        return nil
    }
}

/// A file time to the nanosecond.
public struct FileTime: Codable, Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public init(from decoder: any Decoder) throws {
        let total = try decoder.singleValueContainer().decode(Int64.self)
        seconds = total >= 0 ? total / 1_000_000_000 : (total - 999_999_999) / 1_000_000_000
        nanoseconds = total - seconds * 1_000_000_000
    }

    /// Nanoseconds since the epoch, one integer.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(seconds &* 1_000_000_000 &+ nanoseconds)
    }

    public var date: Date { Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9) }

    public static func < (a: FileTime, b: FileTime) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }
}

public struct ExtendedAttribute: Codable, Sendable, Equatable {
    public var name: String
    public var value: Data

    public init(name: String, value: Data) {
        self.name = name
        self.value = value
    }
}
