import Foundation

/// One entry's header in a POSIX tar stream (ustar, with a pax extended header before it
/// when a field does not fit: long or non-ASCII names, sizes of 8 GiB and more, large ids,
/// sub-second times, extended attributes). GNU tar, bsdtar and Python's tarfile read it.
struct TarHeader {
    enum Kind: UInt8 {
        case file = 0x30  // '0'
        case hardlink = 0x31  // '1'
        case symlink = 0x32  // '2'
        case characterDevice = 0x33  // '3'
        case blockDevice = 0x34  // '4'
        case directory = 0x35  // '5'
        case fifo = 0x36  // '6'
        case paxExtended = 0x78  // 'x'
    }

    static let blockBytes = 512

    var path: [UInt8]
    var kind: Kind
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var sizeBytes: UInt64
    var mtime: FileTime
    var linkTarget: [UInt8] = []
    var deviceNumber: UInt64 = 0
    var xattrs: [ExtendedAttribute] = []

    /// The bytes of the header: the pax header and its records first when needed.
    func encoded() -> [UInt8] {
        var records: [(String, [UInt8])] = []
        let nameFits = path.count <= 100 && path.allSatisfy { $0 < 0x80 && $0 != 0 }
        if !nameFits { records.append(("path", path)) }
        if linkTarget.count > 100 || linkTarget.contains(where: { $0 >= 0x80 }) { records.append(("linkpath", linkTarget)) }
        if sizeBytes > Self.maxOctal(digits: 11) { records.append(("size", Array(String(sizeBytes).utf8))) }
        if UInt64(uid) > Self.maxOctal(digits: 7) { records.append(("uid", Array(String(uid).utf8))) }
        if UInt64(gid) > Self.maxOctal(digits: 7) { records.append(("gid", Array(String(gid).utf8))) }
        if mtime.nanoseconds != 0 || mtime.seconds < 0 || UInt64(mtime.seconds) > Self.maxOctal(digits: 11) {
            records.append(("mtime", Array(Self.decimalTime(mtime).utf8)))
        }
        for attribute in xattrs { records.append(("SCHILY.xattr." + attribute.name, [UInt8](attribute.value))) }

        var out: [UInt8] = []
        if !records.isEmpty {
            let body = records.flatMap { Self.paxRecord(key: $0.0, value: $0.1) }
            let paxName = Array("PaxHeaders/".utf8) + Array(path.suffix(80).filter { $0 < 0x80 && $0 != 0 })
            out += Self.ustar(
                name: paxName, kind: .paxExtended, mode: 0o644, uid: 0, gid: 0, size: UInt64(body.count), mtime: 0, linkName: [], device: 0)
            out += body
            out += Self.padding(after: body.count)
        }
        let clampedTime = UInt64(max(0, min(mtime.seconds, Int64(Self.maxOctal(digits: 11)))))
        out += Self.ustar(
            name: nameFits ? path : Array(path.prefix(100).map { $0 < 0x80 && $0 != 0 ? $0 : UInt8(ascii: "_") }), kind: kind, mode: mode,
            uid: min(UInt64(uid), Self.maxOctal(digits: 7)), gid: min(UInt64(gid), Self.maxOctal(digits: 7)),
            size: min(sizeBytes, Self.maxOctal(digits: 11)), mtime: clampedTime,
            linkName: Array(linkTarget.prefix(100)), device: deviceNumber)
        return out
    }

    /// Zeros that fill the last block of `count` bytes of content.
    static func padding(after count: Int) -> [UInt8] {
        let rest = count % blockBytes
        return rest == 0 ? [] : [UInt8](repeating: 0, count: blockBytes - rest)
    }

    /// Two empty blocks close the archive.
    static let end = [UInt8](repeating: 0, count: 2 * blockBytes)

    private static func maxOctal(digits: Int) -> UInt64 { (1 << (3 * UInt64(digits))) - 1 }

    private static func decimalTime(_ time: FileTime) -> String {
        guard time.nanoseconds != 0 else { return String(time.seconds) }
        var fraction = String(time.nanoseconds)
        fraction = String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(time.seconds).\(fraction)"
    }

    /// "<length> <key>=<value>\n", where the length counts its own digits.
    private static func paxRecord(key: String, value: [UInt8]) -> [UInt8] {
        let rest = 1 + key.utf8.count + 1 + value.count + 1
        var length = rest + String(rest).count
        if String(length).count != String(rest).count { length = rest + String(length).count }
        return Array("\(length) \(key)=".utf8) + value + [0x0A]
    }

    private static func ustar(
        name: [UInt8], kind: Kind, mode: UInt32, uid: UInt64, gid: UInt64, size: UInt64, mtime: UInt64, linkName: [UInt8], device: UInt64
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockBytes)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, b) in bytes.prefix(width).enumerated() { block[offset + i] = b }
        }
        func octal(_ value: UInt64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8), at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(UInt64(mode & 0o7777), at: 100, width: 8)
        octal(uid, at: 108, width: 8)
        octal(gid, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        block[156] = kind.rawValue
        put(linkName, at: 157, width: 100)
        put(Array("ustar\0".utf8), at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        if kind == .characterDevice || kind == .blockDevice {
            // Linux's encoding of dev_t (glibc's major() and minor()).
            let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
            let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
            octal(major & 0o7777777, at: 329, width: 8)
            octal(minor & 0o7777777, at: 337, width: 8)
        }
        // The checksum is computed with its own field read as spaces.
        put([UInt8](repeating: 0x20, count: 8), at: 148, width: 8)
        let sum = block.reduce(0) { $0 + UInt64($1) }
        octal(sum, at: 148, width: 7)
        block[154] = 0
        block[155] = 0x20
        return block
    }
}
