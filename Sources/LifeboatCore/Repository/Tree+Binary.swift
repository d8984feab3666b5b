import Foundation

/// The tree blob encoding (format version 1), little-endian throughout:
///
/// ```
/// tree  = "LBTR" u8(1) u32(nodeCount) node*
/// node  = u16(nameLength) name u8(type) u8(flags) u32(mode) u32(uid) u32(gid)
///         i64(mtime ns) i64(ctime ns) u64(size) u64(inode) u64(device) u64(links)
///         u32(contentCount) blobID*            content, in file order
///         [blobID]                             subtree,     when flags & 1
///         [u32(length) bytes]                  link target, when flags & 2
///         [u64]                                device number, when flags & 4
///         u16(xattrCount) (u16(nameLength) name u32(valueLength) value)*
/// type  = 0 file, 1 directory, 2 symlink, 3 fifo, 4 socket, 5 character device, 6 block device
/// ```
///
/// Binary rather than JSON because a backup with nothing changed still encodes (and an
/// incremental one decodes) every directory; with JSON that was a third of its time.
extension Tree {
    static let magic = Array("LBTR".utf8)

    package func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.bytes.reserveCapacity(16 + nodes.count * 120)
        w.raw(Self.magic)
        w.u8(1)
        w.u32(UInt32(nodes.count))
        for n in nodes {
            w.u16(UInt16(n.nameBytes.count))
            w.raw(n.nameBytes)
            w.u8(n.type.code)
            w.u8((n.subtree != nil ? 1 : 0) | (n.linkTarget != nil ? 2 : 0) | (n.deviceNumber != nil ? 4 : 0))
            w.u32(n.mode)
            w.u32(n.uid)
            w.u32(n.gid)
            w.u64(UInt64(bitPattern: n.mtime.totalNanoseconds))
            w.u64(UInt64(bitPattern: n.ctime.totalNanoseconds))
            w.u64(n.sizeBytes)
            w.u64(n.inode)
            w.u64(n.device)
            w.u64(n.linkCount)
            w.u32(UInt32(n.content.count))
            for id in n.content { w.digest(id.digest) }
            if let sub = n.subtree { w.digest(sub.digest) }
            if let target = n.linkTarget {
                w.u32(UInt32(target.count))
                w.raw(target)
            }
            if let rdev = n.deviceNumber { w.u64(rdev) }
            w.u16(UInt16(n.xattrs.count))
            for x in n.xattrs {
                let name = Array(x.name.utf8)
                w.u16(UInt16(name.count))
                w.raw(name)
                w.u32(UInt32(x.value.count))
                w.raw(x.value)
            }
        }
        return w.bytes
    }

    package static func decode(_ bytes: [UInt8], id: BlobID) throws -> Tree {
        var r = ByteReader(bytes, what: "tree \(id.shortHex)")
        do {
            guard Array(try r.raw(4)) == magic, try r.u8() == 1 else { throw CryptoError.malformed(what: r.what, reason: "not a version-1 tree") }
            let count = Int(try r.u32())
            guard count <= r.remaining / 64 else { throw CryptoError.malformed(what: r.what, reason: "node count \(count) too large") }
            var nodes: [Node] = []
            nodes.reserveCapacity(count)
            for _ in 0..<count {
                let name = Array(try r.raw(Int(try r.u16())))
                guard let type = NodeType(code: try r.u8()) else { throw CryptoError.malformed(what: r.what, reason: "unknown node type") }
                let flags = try r.u8()
                let mode = try r.u32()
                let uid = try r.u32()
                let gid = try r.u32()
                let mtime = FileTime(totalNanoseconds: Int64(bitPattern: try r.u64()))
                let ctime = FileTime(totalNanoseconds: Int64(bitPattern: try r.u64()))
                let size = try r.u64()
                let inode = try r.u64()
                let device = try r.u64()
                let links = try r.u64()
                let contentCount = Int(try r.u32())
                guard contentCount <= r.remaining / 32 else { throw CryptoError.malformed(what: r.what, reason: "content count too large") }
                var content: [BlobID] = []
                content.reserveCapacity(contentCount)
                for _ in 0..<contentCount { content.append(BlobID(try r.digest())) }
                let subtree = flags & 1 != 0 ? BlobID(try r.digest()) : nil
                let linkTarget = flags & 2 != 0 ? Array(try r.raw(Int(try r.u32()))) : nil
                let rdev = flags & 4 != 0 ? try r.u64() : nil
                var xattrs: [ExtendedAttribute] = []
                for _ in 0..<Int(try r.u16()) {
                    let xname = String(decoding: try r.raw(Int(try r.u16())), as: UTF8.self)
                    xattrs.append(ExtendedAttribute(name: xname, value: Data(try r.raw(Int(try r.u32())))))
                }
                nodes.append(
                    Node(
                        nameBytes: name, type: type, mode: mode, uid: uid, gid: gid, mtime: mtime, ctime: ctime, sizeBytes: size,
                        inode: inode, device: device, linkCount: links, content: content, subtree: subtree, linkTarget: linkTarget,
                        deviceNumber: rdev, xattrs: xattrs))
            }
            // Kept in stored order: the writer sorted them, and re-sorting would hide a bad writer.
            var tree = Tree(nodes: [])
            tree.nodes = nodes
            return tree
        } catch {
            throw RepositoryError.undecodable(what: "tree \(id.shortHex)", reason: "\(error)")
        }
    }
}

extension NodeType {
    var code: UInt8 {
        switch self {
        case .file: 0
        case .directory: 1
        case .symlink: 2
        case .fifo: 3
        case .socket: 4
        case .characterDevice: 5
        case .blockDevice: 6
        }
    }

    init?(code: UInt8) {
        switch code {
        case 0: self = .file
        case 1: self = .directory
        case 2: self = .symlink
        case 3: self = .fifo
        case 4: self = .socket
        case 5: self = .characterDevice
        case 6: self = .blockDevice
        default: return nil
        }
    }
}

extension FileTime {
    /// The earliest and latest times a tree holds: nanoseconds since the epoch in an
    /// `i64`, 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z.
    static let earliestRecordable = FileTime(totalNanoseconds: .min)
    static let latestRecordable = FileTime(totalNanoseconds: .max)

    /// Whether the tree encoding holds this time exactly.
    var isRecordable: Bool { self >= Self.earliestRecordable && self <= Self.latestRecordable && (0..<1_000_000_000).contains(nanoseconds) }

    /// The nearest time the tree encoding holds: a backup stores this (with a warning)
    /// for a file dated outside the encoding's range instead of a wrapped value.
    var clampedToRecordable: FileTime {
        let inSecond = FileTime(seconds: seconds, nanoseconds: min(max(nanoseconds, 0), 999_999_999))
        return min(max(inSecond, Self.earliestRecordable), Self.latestRecordable)
    }

    /// Saturates instead of wrapping: a time outside the range encodes as its nearest end.
    var totalNanoseconds: Int64 {
        let clamped = clampedToRecordable
        // In range, seconds * 1e9 + nanoseconds fits; only the earliest second's product
        // does not fit on its own, so add the nanoseconds before the last second.
        let (product, overflow) = clamped.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if !overflow { return product.addingReportingOverflow(clamped.nanoseconds).overflow ? .max : product + clamped.nanoseconds }
        return (clamped.seconds + 1) * 1_000_000_000 + (clamped.nanoseconds - 1_000_000_000)
    }

    /// Total over every `Int64`: floor division without the `total - 999_999_999` that
    /// overflowed on the earliest values (a file dated past 2262 wrapped to `Int64.min`).
    init(totalNanoseconds total: Int64) {
        let (q, r) = total.quotientAndRemainder(dividingBy: 1_000_000_000)
        if r < 0 {
            self.init(seconds: q - 1, nanoseconds: r + 1_000_000_000)
        } else {
            self.init(seconds: q, nanoseconds: r)
        }
    }
}
