import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Watches folder trees and reports bursts of changes: the CONFIGURATION backups that run
/// "on change".
///
/// One thread per watcher reads inotify (every folder of each tree, folders made later
/// watched as they appear) and, every `rescanInterval`, watches again a tree whose root was
/// deleted and has come back (that counts as a change). Where inotify is missing or out of
/// watches (`fs.inotify.max_user_watches`), the same thread polls instead: each rescan
/// compares every entry's size, mtime and ctime with the last. ``watch(debounce:clock:_:)``
/// then gathers changes into bursts: one ends once `debounce` passed without a change, so
/// a thousand writes in a second are one burst (two, when a burst's end falls inside it),
/// reported at most twice `debounce` after their last write.
public final class ChangeWatcher: @unchecked Sendable {
    // @unchecked Sendable: `state` is behind its mutex; `inotify`, `polling` and `fingerprint`
    // are set up by init and then used by the watching thread alone, of which there is one:
    // watch() runs once per watcher (`hasWatched`).
    public let roots: [String]
    public let rescanInterval: Duration

    /// Changes since the last burst was taken, and who waits for the first of them.
    private struct State {
        var changed: Set<String> = []
        var count = 0
        var waiter: CheckedContinuation<Void, Never>?
        var isStopped = false
        var mode = "inotify"
        var hasWatched = false
    }

    private let state = Mutex(State())
    private let wake: (read: Int32, write: Int32)
    private let inotify: Inotify
    private var polling: Bool
    private var fingerprint: [String: [Int]] = [:]

    /// - Parameters:
    ///   - roots: absolute folder (or file) paths.
    ///   - rescanInterval: how often a missing root is looked for again, and the poll period
    ///     of the fallback.
    ///   - forcePolling: poll even where inotify works (tests of the fallback).
    ///
    /// Every change after this returns is reported once ``watch(debounce:clock:_:)`` runs.
    public init(roots: [String], rescanInterval: Duration = .seconds(5), forcePolling: Bool = false) {
        self.roots = roots
        self.rescanInterval = rescanInterval
        let notify = Inotify()
        if !forcePolling { notify.fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK)) }
        var polls = notify.fd < 0
        if !polls {
            for root in roots where !notify.add(root) { polls = true }
        }
        inotify = notify
        polling = polls
        fingerprint = polls ? Self.fingerprint(roots) : [:]
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
        }
        wake = (fds[0], fds[1])
        if polls { state.withLock { $0.mode = "polling" } }
    }

    deinit {
        close(wake.read)
        close(wake.write)
        if inotify.fd >= 0 { close(inotify.fd) }
    }

    /// `inotify` or `polling`, as the watcher runs now.
    public var mode: String { state.withLock { $0.mode } }

    /// Watches until the calling task is cancelled, calling `body` with the paths changed in
    /// each burst (one call at a time: changes during a call make the next burst).
    /// - Parameter clock: what the quiet period is measured on.
    public func watch(debounce: Duration, clock: any Clock<Duration> = ContinuousClock(), _ body: (Set<String>) async -> Void) async {
        let first = state.withLock { s in
            defer { s.hasWatched = true }
            return !s.hasWatched
        }
        precondition(first, "a ChangeWatcher watches once")
        let thread = Thread { [self] in watchLoop() }
        thread.name = "lifeboat-change-watcher"
        thread.start()
        defer { stop() }
        while await nextChange() {
            // Quiet for `debounce`: no change while it slept.
            var seen = state.withLock { $0.count }
            while true {
                do { try await clock.sleep(for: debounce) } catch { return }
                let now = state.withLock { $0.count }
                if now == seen { break }
                seen = now
            }
            let burst = state.withLock { s in
                defer { s.changed = [] }
                return s.changed
            }
            await body(burst)
        }
    }

    /// Waits for a change not yet taken; false once stopped or cancelled.
    private func nextChange() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s in
                    if !s.changed.isEmpty || s.isStopped || Task.isCancelled { return true }
                    s.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
            return !Task.isCancelled && !state.withLock { $0.isStopped }
        } onCancel: {
            stop()
        }
    }

    private func stop() {
        let waiter = state.withLock { s in
            s.isStopped = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)  // a full pipe already holds a wake-up
    }

    private func record(_ paths: some Sequence<String>) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.changed.formUnion(paths)
            s.count += 1
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    // MARK: The watching thread

    private static let mask = UInt32(
        IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

    /// inotify's descriptor and its watches; used by the watching thread only.
    private final class Inotify {
        var fd: Int32 = -1
        var folders: [Int32: String] = [:]
        var outOfWatches = false

        /// Watches `folder` and every folder under it; false when the system has no watch left.
        func add(_ folder: String) -> Bool {
            let wd = inotify_add_watch(fd, folder, ChangeWatcher.mask)
            if wd < 0 { return errno != ENOSPC }  // a folder gone meanwhile has nothing to watch
            folders[wd] = folder
            var isFolder: ObjCBool = false
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {  // removed meanwhile: nothing in it
                let path = folder + "/" + entry
                if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue, !add(path) { return false }
            }
            return true
        }

        var watchedRoots: Set<String> { Set(folders.values) }
    }

    private func watchLoop() {
        let milliseconds = Int32(clamping: rescanInterval.components.seconds * 1000 + rescanInterval.components.attoseconds / 1_000_000_000_000_000)
        while !state.withLock({ $0.isStopped }) {
            var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            if !polling { fds.append(pollfd(fd: inotify.fd, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), max(1, milliseconds))
            if ready < 0 && errno != EINTR { break }
            if fds[0].revents != 0 {
                var bytes = [UInt8](repeating: 0, count: 64)
                while bytes.withUnsafeMutableBytes({ read(wake.read, $0.baseAddress, $0.count) }) > 0 {}
            }
            if polling {
                let now = Self.fingerprint(roots)
                let changed = Set(now.keys).symmetricDifference(fingerprint.keys).union(now.keys.filter { fingerprint[$0] != nil && fingerprint[$0] != now[$0] })
                if !changed.isEmpty { record(changed) }
                fingerprint = now
                continue
            }
            if !readEvents() {
                // Out of watches: poll from now on, from the tree as it is.
                polling = true
                state.withLock { $0.mode = "polling" }
                fingerprint = Self.fingerprint(roots)
                continue
            }
            // A root deleted and made again: watch it anew, and its return is a change.
            let watched = inotify.watchedRoots
            for root in roots where !watched.contains(root) && FileManager.default.fileExists(atPath: root) {
                if !inotify.add(root) { polling = true }
                record([root])
            }
        }
    }

    /// Reads the pending events, watching the folders they made; false when out of watches.
    private func readEvents() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var changed: [String] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { read(inotify.fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            var offset = 0
            while offset < n {
                let (wd, mask, length) = buffer.withUnsafeBytes { p -> (Int32, UInt32, Int) in
                    let event = p.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, event.mask, Int(event.len))
                }
                let nameStart = offset + MemoryLayout<inotify_event>.size
                offset = nameStart + length
                if mask & UInt32(IN_IGNORED) != 0 {
                    inotify.folders[wd] = nil
                    continue
                }
                guard let folder = inotify.folders[wd] else { continue }
                let name = String(decoding: buffer[nameStart..<(nameStart + length)].prefix { $0 != 0 }, as: UTF8.self)
                let path = name.isEmpty ? folder : folder + "/" + name
                changed.append(path)
                if mask & UInt32(IN_ISDIR) != 0 && mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 && !inotify.add(path) {
                    record(changed)
                    return false
                }
            }
        }
        if !changed.isEmpty { record(changed) }
        return true
    }

    /// Size, mtime and ctime of every entry under the roots.
    private static func fingerprint(_ roots: [String]) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        func visit(_ path: String) {
            var st = stat()
            guard lstat(path, &st) == 0 else { return }
            out[path] = [Int(st.st_size), st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec]
            guard st.st_mode & S_IFMT == S_IFDIR else { return }
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { visit(path + "/" + entry) }  // gone meanwhile: nothing under it
        }
        roots.forEach(visit)
        return out
    }
}
