import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Compares two directory trees entry by entry: type, content, permission bits, mtime
/// (to the nanosecond, except for symlinks), link targets and extended attributes.
/// Used to prove that a restore reproduced its source.
public enum DirectoryComparison {
    /// The differences, as readable lines; empty when the trees are equal.
    public static func differences(_ a: String, _ b: String, compareDirectoryTimes: Bool = true) -> [String] {
        var out: [String] = []
        compare(RawPath(a), RawPath(b), relative: "", into: &out, directoryTimes: compareDirectoryTimes)
        return out
    }

    private static func compare(_ a: RawPath, _ b: RawPath, relative: String, into out: inout [String], directoryTimes: Bool) {
        let shown = relative.isEmpty ? "/" : relative
        guard let sa = try? FileStatus.lstat(a) else { out.append("\(shown): missing on the left"); return }
        guard let sb = try? FileStatus.lstat(b) else { out.append("\(shown): missing on the right"); return }
        guard sa.type == sb.type else { out.append("\(shown): \(sa.type) vs \(sb.type)"); return }
        if sa.mode != sb.mode && sa.type != .symlink { out.append("\(shown): mode \(String(sa.mode, radix: 8)) vs \(String(sb.mode, radix: 8))") }
        if sa.type != .symlink && (sa.type != .directory || directoryTimes) && sa.mtime != sb.mtime {
            out.append("\(shown): mtime \(sa.mtime.seconds).\(sa.mtime.nanoseconds) vs \(sb.mtime.seconds).\(sb.mtime.nanoseconds)")
        }
        if sa.type != .symlink, (try? Directory.extendedAttributes(of: a)) != (try? Directory.extendedAttributes(of: b)) {
            out.append("\(shown): extended attributes differ")
        }
        switch sa.type {
        case .file:
            if sa.sizeBytes != sb.sizeBytes { out.append("\(shown): size \(sa.sizeBytes) vs \(sb.sizeBytes)"); return }
            if !sameContent(a, b) { out.append("\(shown): content differs") }
        case .symlink:
            if (try? Directory.linkTarget(of: a)) != (try? Directory.linkTarget(of: b)) { out.append("\(shown): link target differs") }
        case .directory:
            let ea = (try? Directory.entries(of: a)) ?? []
            let eb = (try? Directory.entries(of: b)) ?? []
            for name in Set(ea).union(eb).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                compare(a.appending(name), b.appending(name), relative: relative + "/" + String(decoding: name, as: UTF8.self), into: &out, directoryTimes: directoryTimes)
            }
        default:
            break
        }
    }

    private static func sameContent(_ a: RawPath, _ b: RawPath) -> Bool {
        let fa = a.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        let fb = b.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        defer { if fa >= 0 { close(fa) }; if fb >= 0 { close(fb) } }
        guard fa >= 0, fb >= 0 else { return false }
        let size = 1 << 20
        var ba = [UInt8](repeating: 0, count: size)
        var bb = [UInt8](repeating: 0, count: size)
        while true {
            let na = ba.withUnsafeMutableBytes { read(fa, $0.baseAddress, size) }
            var nb = 0
            while nb < na {
                let n = bb.withUnsafeMutableBytes { read(fb, $0.baseAddress! + nb, na - nb) }
                if n <= 0 { return false }
                nb += n
            }
            if na <= 0 {
                return na == 0 && bb.withUnsafeMutableBytes { read(fb, $0.baseAddress, 1) } == 0
            }
            if memcmp(ba, bb, na) != 0 { return false }
        }
    }
}
