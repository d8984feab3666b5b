import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A restored entry's owner, mode, extended attributes and times, in that order: chown
/// clears setuid, and every change but the last would move the mtime. Each function
/// returns one line naming what could not be set (nil when everything was), so that a
/// metadata problem is reported without failing the entry's content.
enum RestoreMetadata {
    /// Sets the metadata through the path (directories, symlinks, special files).
    static func apply(to path: RawPath, node: Node, options: RestoreOptions) -> String? {
        let isLink = node.type == .symlink
        var problems: [String] = []
        if options.restoreOwnership {
            if path.withCString({ lchown($0, node.uid, node.gid) }) != 0 { problems.append("chown: \(String(cString: strerror(errno)))") }
        }
        if !isLink {
            if path.withCString({ chmod($0, mode_t(node.mode)) }) != 0 { problems.append("chmod: \(String(cString: strerror(errno)))") }
        }
        for x in node.xattrs {
            let r = path.withCString { p in x.name.withCString { n in x.value.withUnsafeBytes { lsetxattr(p, n, $0.baseAddress, $0.count, 0) } } }
            if r != 0 { problems.append("xattr \(x.name): \(String(cString: strerror(errno)))") }
        }
        var times = [
            timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds)),
            timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds)),
        ]
        if path.withCString({ utimensat(AT_FDCWD, $0, &times, AT_SYMLINK_NOFOLLOW) }) != 0 {
            problems.append("times: \(String(cString: strerror(errno)))")
        }
        return problems.isEmpty ? nil : "\(path): \(problems.joined(separator: ", "))"
    }

    /// The same as ``apply(to:node:options:)`` through an open descriptor: no path
    /// lookups, which a restore of many small files otherwise spends much of its time on.
    static func apply(fd: Int32, path: RawPath, node: Node, options: RestoreOptions) -> String? {
        var problems: [String] = []
        if options.restoreOwnership, fchown(fd, node.uid, node.gid) != 0 { problems.append("chown: \(String(cString: strerror(errno)))") }
        if fchmod(fd, mode_t(node.mode)) != 0 { problems.append("chmod: \(String(cString: strerror(errno)))") }
        for x in node.xattrs {
            let r = x.name.withCString { n in x.value.withUnsafeBytes { fsetxattr(fd, n, $0.baseAddress, $0.count, 0) } }
            if r != 0 { problems.append("xattr \(x.name): \(String(cString: strerror(errno)))") }
        }
        var times = [
            timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds)),
            timespec(tv_sec: Int(node.mtime.seconds), tv_nsec: Int(node.mtime.nanoseconds)),
        ]
        if futimens(fd, &times) != 0 { problems.append("times: \(String(cString: strerror(errno)))") }
        return problems.isEmpty ? nil : "\(path): \(problems.joined(separator: ", "))"
    }
}
