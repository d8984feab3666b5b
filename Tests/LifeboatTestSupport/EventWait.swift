import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Waiting for an event a subject causes, never for a guessed duration: the condition is
/// asked once, then again each time one of the events the caller named happens (a file
/// or folder appears under a tree, a process ends, a signal arrives). Between events the
/// thread sleeps in poll(2) on the events themselves. The limit only stops a test whose
/// event never comes; it is generous, so that a machine many times slower still passes.
public final class EventWait: @unchecked Sendable {
    // @unchecked Sendable: the pipe is written from any thread (a write is atomic); the
    // inotify state is used by the waiting thread only.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var inotify: Int32 = -1
    private var signalSources: [any DispatchSourceSignal] = []

    public struct Timeout: Error, CustomStringConvertible {
        public let description: String
    }

    public init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Timeout(description: "pipe: \(String(cString: strerror(errno)))") }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        (wakeRead, wakeWrite) = (fds[0], fds[1])
    }

    deinit {
        signalSources.forEach { $0.cancel() }
        close(wakeRead)
        close(wakeWrite)
        if inotify >= 0 { close(inotify) }
    }

    /// Wakes the waiter: the condition is asked again.
    public func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)  // a full pipe already holds a wake-up
    }

    /// Wakes on every file or folder made or renamed into `tree`, at any depth (folders made
    /// later are watched as they appear).
    public func watch(tree: String) throws {
        if inotify < 0 {
            inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
            guard inotify >= 0 else { throw Timeout(description: "inotify_init1: \(String(cString: strerror(errno)))") }
        }
        try addWatches(tree)
    }

    /// Wakes when `process` ends.
    public func wake(onEndOf process: Process) {
        process.terminationHandler = { [weak self] _ in self?.wake() }
        if !process.isRunning { wake() }  // it may have ended before the handler was set
    }

    /// Wakes when this process receives `signal` (which must not end it by default).
    public func wake(onSignal signal: Int32) {
        let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
        source.setEventHandler { [weak self] in self?.wake() }
        source.resume()
        signalSources.append(source)
    }

    /// Returns as soon as `condition` holds; throws ``Timeout`` naming `what` after `limit`.
    public func until(_ what: String, limit: Duration = .seconds(300), _ condition: () throws -> Bool) throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while !(try condition()) {
            let left = clock.now.duration(to: deadline)
            guard left > .zero else { throw Timeout(description: "gave up after \(limit) waiting for \(what)") }
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if inotify >= 0 { fds.append(pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)) }
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            if poll(&fds, nfds_t(fds.count), milliseconds) < 0 && errno != EINTR {
                throw Timeout(description: "poll: \(String(cString: strerror(errno)))")
            }
            drain(wakeRead)
            try readWatchEvents()
        }
    }

    private static let watchMask = UInt32(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE)
    private var watchedFolders: [Int32: String] = [:]

    private func addWatches(_ folder: String) throws {
        let wd = inotify_add_watch(inotify, folder, Self.watchMask)
        guard wd >= 0 else {
            if errno == ENOENT { return }  // gone already: nothing will appear in it
            throw Timeout(description: "inotify_add_watch \(folder): \(String(cString: strerror(errno)))")
        }
        watchedFolders[wd] = folder
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {  // a folder removed meanwhile has none
            var isFolder: ObjCBool = false
            let path = folder + "/" + entry
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue { try addWatches(path) }
        }
    }

    /// Reads the pending inotify events and watches the folders they made.
    private func readWatchEvents() throws {
        guard inotify >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            var offset = 0
            while offset < n {
                let (wd, mask, length) = buffer.withUnsafeBytes { p -> (Int32, UInt32, Int) in
                    let event = p.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, event.mask, Int(event.len))
                }
                let nameStart = offset + MemoryLayout<inotify_event>.size
                if mask & UInt32(IN_ISDIR) != 0, let parent = watchedFolders[wd] {
                    let name = String(decoding: buffer[nameStart..<(nameStart + length)].prefix { $0 != 0 }, as: UTF8.self)
                    try addWatches(parent + "/" + name)
                }
                offset = nameStart + length
            }
        }
    }

    private func drain(_ fd: Int32) {
        var bytes = [UInt8](repeating: 0, count: 64)
        while bytes.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
