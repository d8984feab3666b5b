import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Directory listing, link targets and extended attributes, all as raw bytes.
public enum Directory {
    /// The names in a directory (without `.` and `..`), sorted by their bytes.
    public static func entries(of path: RawPath) throws -> [[UInt8]] {
        guard let dir = path.withCString({ opendir($0) }) else { throw FileSystemError("opendir", path, errno: errno) }
        defer { closedir(dir) }
        return try names(in: dir, path: path)
    }

    /// The names `readdir` gives from the open stream `dir` (without `.` and `..`), sorted by
    /// their bytes; `path` names it in errors.
    static func names(in dir: OpaquePointer, path: RawPath) throws -> [[UInt8]] {
        var names: [[UInt8]] = []
        errno = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                return Array(UnsafeBufferPointer(start: p, count: strlen(raw.baseAddress!.assumingMemoryBound(to: CChar.self))))
            }
            if name != [0x2e] && name != [0x2e, 0x2e] { names.append(name) }
        }
        if errno != 0 { throw FileSystemError("readdir", path, errno: errno) }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    public static func linkTarget(of path: RawPath) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = path.withCString { p in buffer.withUnsafeMutableBufferPointer { readlink(p, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) } }
        guard n >= 0 else { throw FileSystemError("readlink", path, errno: errno) }
        return Array(buffer[0..<n])
    }

    /// The `user.*` (and, as root, `trusted.*` and `security.*`) attributes of a path, not following links.
    public static func extendedAttributes(of path: RawPath) throws -> [ExtendedAttribute] {
        try extendedAttributes(of: path, shownAs: path)
    }

    /// The same, reached through `path` (a `/proc/self/fd` path) and named `shown` in errors.
    static func extendedAttributes(of path: RawPath, shownAs shown: RawPath) throws -> [ExtendedAttribute] {
        try path.withCString { p in
            try readAttributes(
                shownAs: shown, list: { llistxattr(p, $0, $1) }, get: { lgetxattr(p, $0, $1, $2) })
        }
    }

    /// The same through an open descriptor (a directory or a file being read).
    static func extendedAttributes(fd: Int32, shownAs shown: RawPath) throws -> [ExtendedAttribute] {
        try readAttributes(shownAs: shown, list: { flistxattr(fd, $0, $1) }, get: { fgetxattr(fd, $0, $1, $2) })
    }

    private static func readAttributes(
        shownAs path: RawPath, list: (UnsafeMutablePointer<CChar>?, Int) -> Int, get: (UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    ) throws -> [ExtendedAttribute] {
        let size = list(nil, 0)
        if size < 0 {
            if errno == ENOTSUP || errno == ENOSYS { return [] }
            throw FileSystemError("llistxattr", path, errno: errno)
        }
        if size == 0 { return [] }
        var names = [UInt8](repeating: 0, count: size)
        let n = names.withUnsafeMutableBufferPointer { list(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), size) }
        guard n >= 0 else { throw FileSystemError("llistxattr", path, errno: errno) }
        var out: [ExtendedAttribute] = []
        for raw in names[0..<min(n, size)].split(separator: 0) {
            let name = String(decoding: raw, as: UTF8.self)
            // system.* holds ACLs and the like, which are rebuilt from the mode on restore.
            guard !name.hasPrefix("system.") else { continue }
            let vsize = name.withCString { get($0, nil, 0) }
            guard vsize >= 0 else { continue }  // removed meanwhile: nothing to record
            var value = [UInt8](repeating: 0, count: vsize)
            let got = name.withCString { nm in value.withUnsafeMutableBytes { get(nm, $0.baseAddress, vsize) } }
            guard got >= 0 else { continue }  // removed (or grown) meanwhile: nothing to record
            out.append(ExtendedAttribute(name: name, value: Data(value[0..<min(got, vsize)])))
        }
        return out.sorted { $0.name < $1.name }
    }
}
