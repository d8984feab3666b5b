import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A process as a lock or a lease names it: host, the host's boot, pid and the pid's start
/// time. A pid alone says nothing once the host rebooted or the pid was reused; the four
/// together say whether the holder can still be running.
public struct ProcessIdentity: Codable, Sendable, Equatable, CustomStringConvertible {
    public var host: String
    /// `/proc/sys/kernel/random/boot_id`; nil where the system has none.
    public var bootID: String?
    public var pid: Int32
    /// The process's start, in clock ticks since boot (`/proc/PID/stat` field 22).
    public var startTicks: UInt64?

    public init(host: String, bootID: String?, pid: Int32, startTicks: UInt64?) {
        self.host = host
        self.bootID = bootID
        self.pid = pid
        self.startTicks = startTicks
    }

    /// This process on this host.
    public static func current(host: String) -> ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(host: host, bootID: bootID, pid: pid, startTicks: startTicks(of: pid))
    }

    public var description: String { "pid \(pid) on \(host)" }

    /// Whether this process is certainly gone, as far as a process on `localHost` can tell;
    /// false when it cannot tell (another host: only an expiry can say).
    public func isCertainlyGone(localHost: String) -> Bool {
        guard host == localHost else { return false }
        if let bootID, let now = Self.bootID, bootID != now { return true }  // the host rebooted since
        // kill(pid, 0) fails with ESRCH only when no such process exists.
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        if let startTicks, let live = Self.startTicks(of: pid), live != startTicks { return true }  // the pid was reused
        return false
    }

    static let bootID: String? = {
        guard let data = FileManager.default.contents(atPath: "/proc/sys/kernel/random/boot_id") else { return nil }
        let id = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }()

    static func startTicks(of pid: Int32) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        // The command name (field 2) is in parentheses and may hold spaces: count after it.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // Field 3 is the first after ")", so field 22 is at index 19.
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}
