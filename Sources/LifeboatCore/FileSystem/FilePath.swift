#if canImport(Glibc)
import Glibc
#endif

/// A path as bytes. Linux file names are any bytes but `/` and NUL, so paths are never
/// forced through `String` on their way from `readdir` to `open`.
public struct RawPath: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ string: String) { bytes = Array(string.utf8) }
    public init(bytes: [UInt8]) { self.bytes = bytes }

    public func appending(_ component: [UInt8]) -> RawPath {
        var b = bytes
        if b.last != UInt8(ascii: "/") { b.append(UInt8(ascii: "/")) }
        b.append(contentsOf: component)
        return RawPath(bytes: b)
    }

    /// For messages: invalid UTF-8 shows as U+FFFD.
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    public var lastComponent: [UInt8] {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return bytes }
        return Array(bytes[(slash + 1)...])
    }

    /// Calls `body` with a NUL-terminated C string of the path.
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var z = bytes
        z.append(0)
        return try z.withUnsafeBufferPointer { try $0.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) } }
    }
}

/// Not exported by Glibc's module without _GNU_SOURCE; the value is the same on every Linux architecture we build for.
let O_NOATIME: Int32 = 0o1000000
/// Not exported by Glibc's module without _GNU_SOURCE; the same on x86_64 and aarch64.
let O_PATH: Int32 = 0o10000000
/// Not exported by Glibc's module without _GNU_SOURCE (x86_64 and aarch64 differ; this is x86_64's).
#if arch(x86_64)
let O_DIRECT: Int32 = 0o40000
#else
let O_DIRECT: Int32 = 0o200000
#endif
