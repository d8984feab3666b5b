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
    /// Sets the metadata of the entry `name` of `dir` (symlinks and special files, which
    /// are not opened: a FIFO would block, a device act), never following a symlink there.
    /// - Parameter shown: the entry's path in messages.
    static func apply(in dir: DirectoryHandle, name: [UInt8], shownAs shown: RawPath, node: Node, options: RestoreOptions) -> String? {
        let isLink = node.type == .symlink
        var problems: [String] = []
        DirectoryHandle.withName(name) { n in
            if options.restoreOwnership, fchownat(dir.fd, n, node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0 {
                problems.append("chown: \(String(cString: strerror(errno)))")
            }
            // glibc refuses AT_SYMLINK_NOFOLLOW only for a symlink, whose mode Linux does not keep anyway.
            if !isLink, fchmodat(dir.fd, n, mode_t(node.mode), AT_SYMLINK_NOFOLLOW) != 0 {
                problems.append("chmod: \(String(cString: strerror(errno)))")
            }
        }
        if !isLink && !node.xattrs.isEmpty {
            // No *at form for attributes: reached through /proc/self/fd, without following the last component.
            let path = dir.entryPath(name)
            for x in node.xattrs {
                let r = path.withCString { p in x.name.withCString { n in x.value.withUnsafeBytes { lsetxattr(p, n, $0.baseAddress, $0.count, 0) } } }
                if r != 0 { problems.append("xattr \(x.name): \(String(cString: strerror(errno)))") }
            }
        }
        var times = [node.mtime.timespec, node.mtime.timespec]
        if DirectoryHandle.withName(name, { utimensat(dir.fd, $0, &times, AT_SYMLINK_NOFOLLOW) }) != 0 {
            problems.append("times: \(String(cString: strerror(errno)))")
        }
        return problems.isEmpty ? nil : "\(shown): \(problems.joined(separator: ", "))"
    }

    /// The same through an open descriptor (files and directories): no path
    /// lookups, which a restore of many small files otherwise spends much of its time on.
    static func apply(fd: Int32, path: RawPath, node: Node, options: RestoreOptions) -> String? {
        var problems: [String] = []
        if options.restoreOwnership, fchown(fd, node.uid, node.gid) != 0 { problems.append("chown: \(String(cString: strerror(errno)))") }
        if fchmod(fd, mode_t(node.mode)) != 0 { problems.append("chmod: \(String(cString: strerror(errno)))") }
        for x in node.xattrs {
            let r = x.name.withCString { n in x.value.withUnsafeBytes { fsetxattr(fd, n, $0.baseAddress, $0.count, 0) } }
            if r != 0 { problems.append("xattr \(x.name): \(String(cString: strerror(errno)))") }
        }
        var times = [node.mtime.timespec, node.mtime.timespec]
        if futimens(fd, &times) != 0 { problems.append("times: \(String(cString: strerror(errno)))") }
        return problems.isEmpty ? nil : "\(path): \(problems.joined(separator: ", "))"
    }
}

extension FileTime {
    /// For `utimensat`; a time no system call takes (nanoseconds out of 0..<1e9, from a
    /// crafted tree) becomes the nearest one it does.
    var timespec: Glibc.timespec {
        let t = clampedToRecordable
        return Glibc.timespec(tv_sec: Int(t.seconds), tv_nsec: Int(t.nanoseconds))
    }
}
