import Synchronization

/// How far a long operation (a restore, `check --read-data`, a replication) has got. The
/// operation counts what it finishes; whoever shows progress reads the meter when it likes.
/// Core never prints, and a reader never slows the operation: one lock, no events queued.
public final class ProgressMeter: Sendable {
    public struct Reading: Sendable, Equatable {
        /// What is being done now, in a few words ("reading packs", "copying data").
        public var phase: String
        public var itemsDone: Int64
        public var bytesDone: Int64
        /// Nil while the operation does not know how much there is.
        public var itemsTotal: Int64?
        public var bytesTotal: Int64?

        public init(phase: String = "", itemsDone: Int64 = 0, bytesDone: Int64 = 0, itemsTotal: Int64? = nil, bytesTotal: Int64? = nil) {
            self.phase = phase
            self.itemsDone = itemsDone
            self.bytesDone = bytesDone
            self.itemsTotal = itemsTotal
            self.bytesTotal = bytesTotal
        }
    }

    private let state = Mutex(Reading())

    public init() {}

    public var reading: Reading { state.withLock { $0 } }

    /// Starts a phase: its counts from zero, with its totals when known.
    public func start(_ phase: String, items: Int64? = nil, bytes: Int64? = nil) {
        state.withLock { $0 = Reading(phase: phase, itemsTotal: items, bytesTotal: bytes) }
    }

    public func add(items: Int64 = 0, bytes: Int64 = 0) {
        state.withLock {
            $0.itemsDone += items
            $0.bytesDone += bytes
        }
    }
}
