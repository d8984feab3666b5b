import Foundation

/// A process's output (a pipe), read as it is written, so a test can wait for the line
/// that tells it the subject reached a point.
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
