import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Waiting for an event a subject causes (a file it writes, a line it prints, a state a
/// server reports), never for a guessed duration: the condition is asked again every few
/// milliseconds until it holds. The limit only stops a test whose event never comes; it is
/// generous, so that a machine many times slower still passes.
public enum Poll {
    public struct Timeout: Error, CustomStringConvertible {
        public let description: String
    }

    /// Returns as soon as `condition` holds; throws ``Timeout`` naming `what` after `limit`.
    public static func until(_ what: String, limit: Duration = .seconds(300), _ condition: () throws -> Bool) throws {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while !(try condition()) {
            guard clock.now < deadline else { throw Timeout(description: "gave up after \(limit) waiting for \(what)") }
            usleep(2_000)
        }
    }
}

/// A process's standard error, read line by line as it is written (a pipe), so a test can
/// wait for the line that tells it the subject reached a point.
public final class LineReader: @unchecked Sendable {
    // @unchecked Sendable: `text` is guarded by the lock; the handle is read on one thread.
    private let handle: FileHandle
    private let lock = NSLock()
    private var text = ""
    private var ended = false

    public init(_ handle: FileHandle) { self.handle = handle }

    /// Everything read so far.
    public var output: String { lock.withLock { text } }

    /// Reads until the output contains `needle` (true) or the writer closes its end (false).
    public func waitFor(_ needle: String) -> Bool {
        while true {
            if lock.withLock({ text.contains(needle) }) { return true }
            if lock.withLock({ ended }) { return false }
            let data = handle.availableData
            lock.withLock {
                if data.isEmpty { ended = true } else { text += String(decoding: data, as: UTF8.self) }
            }
        }
    }

    /// Reads the rest, to the writer's end.
    public func readToEnd() -> String {
        while true {
            let data = handle.availableData
            if data.isEmpty { break }
            lock.withLock { text += String(decoding: data, as: UTF8.self) }
        }
        lock.withLock { ended = true }
        return output
    }
}
