import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reading a small file that someone else may control (a restored data directory's, a log
/// in a folder of the database's user) without following a link: the last component is
/// opened with `O_NOFOLLOW` and must be a regular file, so a `-> /etc/shadow` reads as
/// nothing instead of as root's secrets, and a FIFO under the name cannot hang the open.
enum RegularFile {
    /// A regular file's text, opened relative to `dir` with `O_NOFOLLOW`; nil otherwise.
    static func text(at dir: Int32, _ name: String, limitBytes: Int = 16 << 20) -> String? {
        let file = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var st = stat()
        guard fstat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG, Int(st.st_size) <= limitBytes else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(file, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        return String(decoding: bytes[0..<done], as: UTF8.self)
    }

    /// A file's text by path, the last component not followed when it is a link.
    static func text(atPath path: String) -> String? {
        let folder = (path as NSString).deletingLastPathComponent
        let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return nil }
        defer { close(dir) }
        return text(at: dir, (path as NSString).lastPathComponent)
    }
}
