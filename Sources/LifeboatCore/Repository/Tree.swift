import Foundation

/// One directory: its entries sorted by the bytes of their names. Stored as one tree
/// blob in a deterministic binary encoding (``Tree/encoded()``), so that an unchanged
/// directory encodes to the same bytes, hence the same blob id, in every snapshot.
public struct Tree: Sendable, Equatable {
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

}

/// The kinds of filesystem entry a tree records.
public enum NodeType: String, Codable, Sendable {
    case file, directory, symlink, fifo, socket
    case characterDevice = "chardev"
    case blockDevice = "blockdev"
}

/// One entry of a directory, with everything needed to restore it faithfully.
public struct Node: Sendable, Equatable {
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
        self.init(totalNanoseconds: try decoder.singleValueContainer().decode(Int64.self))
    }

    /// Nanoseconds since the epoch, one integer (saturated at the ends of `Int64`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(totalNanoseconds)
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
