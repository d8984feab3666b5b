import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Write leases (fcntl F_SETLEASE) on files: another process that opens one of them blocks
/// in open(2) until the lease is released (or the kernel's lease-break-time, 45 s by
/// default, runs out), and the holder sees that someone tried. A test uses them to stop a
/// subject exactly when it starts reading a file, however fast or slow the machine.
///
/// The files must belong to this process's user and be open nowhere else.
public final class FileLeases: @unchecked Sendable {
    // @unchecked Sendable: `leases` is guarded by the lock.
    private let lock = NSLock()
    private var leases: [(path: String, fd: Int32)] = []

    // Linux's values (fcntl.h, _GNU_SOURCE): Glibc's module leaves them out.
    private static let F_SETSIG: Int32 = 10
    private static let F_SETLEASE: Int32 = 1024
    private static let F_GETLEASE: Int32 = 1025

    public init(_ paths: [String]) throws {
        _ = Self.longBreakTime
        for path in paths {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw LeaseError("open \(path): \(String(cString: strerror(errno)))") }
            // The break is signalled to the holder, with SIGIO unless told otherwise, and
            // SIGIO would end the test runner: SIGWINCH is ignored by default.
            guard fcntl(fd, Self.F_SETSIG, SIGWINCH) == 0, fcntl(fd, Self.F_SETLEASE, Int32(F_WRLCK)) == 0 else {
                let message = "lease on \(path): \(String(cString: strerror(errno)))"
                close(fd)
                releaseAll()
                throw LeaseError(message)
            }
            leases.append((path, fd))
        }
    }

    deinit { releaseAll() }

    /// The kernel breaks a lease by itself after `/proc/sys/fs/lease-break-time` seconds (45
    /// by default), and the subject's open(2) then goes on: a test slowed down past that (a
    /// loaded 2-core CI machine running many suites at once) saw the backup it meant to
    /// stop finish instead. When it can (as root), this raises the limit to an hour for the
    /// life of the test process, and puts the old value back when the process exits.
    private static let longBreakTime: Void = {
        let file = "/proc/sys/fs/lease-break-time"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
            let seconds = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), seconds < 3600,
            (try? "3600\n".write(toFile: file, atomically: false, encoding: .utf8)) != nil
        else { return }
        originalBreakTime.withLock { $0 = seconds }
        atexit {
            if let seconds = FileLeases.originalBreakTime.withLock({ $0 }) {
                try? "\(seconds)\n".write(toFile: "/proc/sys/fs/lease-break-time", atomically: false, encoding: .utf8)
            }
        }
    }()

    private static let originalBreakTime = Mutex<Int?>(nil)

    /// The files someone is trying to open now (their lease is being broken).
    public var contended: [String] {
        lock.withLock { leases.filter { fcntl($0.fd, Self.F_GETLEASE) != Int32(F_WRLCK) }.map(\.path) }
    }

    /// Lets every blocked and future open through.
    public func releaseAll() {
        let fds = lock.withLock {
            defer { leases = [] }
            return leases.map(\.fd)
        }
        for fd in fds {
            _ = fcntl(fd, Self.F_SETLEASE, Int32(F_UNLCK))
            close(fd)
        }
    }

    public struct LeaseError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
