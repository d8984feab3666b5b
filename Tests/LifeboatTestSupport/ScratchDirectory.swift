import Foundation
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under the system temporary folder, removed when released.
public final class ScratchDirectory: @unchecked Sendable {
    // @unchecked Sendable: `path` is immutable; the directory is removed once, in deinit.
    public let path: String

    public init(_ label: String = "test") {
        let template = NSTemporaryDirectory() + "lifeboat-\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: \(String(cString: strerror(errno)))")
        path = String(cString: made!)
    }

    deinit {
        // Make everything writable first: tests restore read-only directories.
        _ = try? Shell.run("/bin/chmod", ["-R", "u+rwx", path])
        try? FileManager.default.removeItem(atPath: path)  // a leftover scratch dir harms no test
    }

    /// A folder below this one, made if missing (an existing one is fine).
    public func sub(_ relative: String) throws -> String {
        let p = path + "/" + relative
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}

/// Test repositories with a cheap key derivation, so that each open costs milliseconds.
public enum TestRepository {
    public static let passphrase = "correct horse battery staple"
    public static let cheapKDF = KDFParameters(n: 1024, r: 8, p: 1)

    public static func create(at path: String) async throws -> Repository {
        let backend = try LocalDirectoryBackend(path: path, create: true)
        return try await Repository.initialize(backend: backend, passphrase: passphrase, kdf: cheapKDF, host: "testhost", username: "tester")
    }

    public static func open(at path: String) async throws -> Repository {
        try await Repository.open(backend: try LocalDirectoryBackend(path: path), passphrase: passphrase)
    }

    public static func backup(_ repo: Repository, _ paths: [String], type: BackupType? = nil, excludes: [String] = []) async throws -> BackupResult {
        var options = BackupOptions(paths: paths, type: type, host: "testhost", username: "tester")
        options.excludes = excludes
        return try await FileTreeBackup(repository: repo).backup(options)
    }

    /// Every file under a repository with its bytes, for "nothing changed" and "no plaintext" checks.
    public static func allObjects(at path: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: path) else { return out }
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: path + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                out[rel] = fm.contents(atPath: path + "/" + rel) ?? Data()
            }
        }
        return out
    }
}

/// Deterministic pseudo-random bytes (SplitMix64); the seed is part of each test's name or message.
public struct SeededBytes {
    var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { p in
            var i = 0
            while i + 8 <= count {
                p.storeBytes(of: next(), toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < count {
                p[i] = UInt8(truncatingIfNeeded: next())
                i += 1
            }
        }
        return out
    }
}
