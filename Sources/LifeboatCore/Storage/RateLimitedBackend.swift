import Foundation

/// Keeps a backend's transfers within a rate each way (`--limit-upload`, `--limit-download`,
/// a location's `limits:`), so that a backup to a bucket over the office's uplink leaves room
/// for everyone else, as restic's and rclone's limits do.
///
/// Pacing is per object: a write waits until the bytes before it have had their time, then
/// goes whole; a read pays for its bytes once they have arrived (their number is known only
/// then). Over a run the average stays at the rate; one object (a pack, 16 MiB) may go at the
/// link's speed. Retries pay again: it sits below ``RetryingBackend``.
public struct RateLimitedBackend: StorageBackend {
    public let inner: any StorageBackend
    private let upload: (any TransferPacing)?
    private let download: (any TransferPacing)?

    /// - Parameters:
    ///   - uploadBytesPerSecond: the most written per second on average; nil for no limit.
    ///   - downloadBytesPerSecond: the most read per second on average; nil for no limit.
    ///   - clock: paces the waits (a test clock makes them happen on demand).
    public init<C: Clock>(
        _ inner: any StorageBackend, uploadBytesPerSecond: Int?, downloadBytesPerSecond: Int?, clock: C = ContinuousClock()
    ) where C.Duration == Duration {
        self.inner = inner
        upload = uploadBytesPerSecond.map { TransferPace(bytesPerSecond: $0, clock: clock) }
        download = downloadBytesPerSecond.map { TransferPace(bytesPerSecond: $0, clock: clock) }
    }

    public var locationDescription: String { inner.locationDescription }

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        try await upload?.take(bytes.count)
        try await inner.write(name, bytes: bytes, overwrite: overwrite)
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] {
        let bytes = try await inner.read(name)
        try await download?.take(bytes.count)
        return bytes
    }

    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        let bytes = try await inner.read(name, offset: offset, length: length)
        try await download?.take(bytes.count)
        return bytes
    }

    public func size(of name: ObjectName) async throws -> Int { try await inner.size(of: name) }
    public func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await inner.listing(kind) }
    public func delete(_ name: ObjectName) async throws { try await inner.delete(name) }
    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int {
        try await inner.removeStaleTemporaries(olderThan: date)
    }
}

/// One direction's budget of a ``RateLimitedBackend``.
protocol TransferPacing: Sendable {
    func take(_ bytes: Int) async throws
}

/// A budget of bytes per second shared by every transfer one way: each transfer books the
/// time its bytes take at the rate after those booked before it, then waits for its turn.
/// Time left unused (an idle link) counts for at most one second, so a pause does not buy a
/// burst above the rate afterwards.
actor TransferPace<C: Clock>: TransferPacing where C.Duration == Duration {
    let bytesPerSecond: Int
    let clock: C
    private var bookedUntil: C.Instant?

    init(bytesPerSecond: Int, clock: C) {
        precondition(bytesPerSecond > 0, "a rate is at least one byte per second")
        self.bytesPerSecond = bytesPerSecond
        self.clock = clock
    }

    func take(_ bytes: Int) async throws {
        guard bytes > 0 else { return }
        let now = clock.now
        let earliest = now.advanced(by: .seconds(-1))
        let start = bookedUntil.map { max($0, earliest) } ?? earliest
        let end = start.advanced(by: .seconds(Double(bytes) / Double(bytesPerSecond)))
        bookedUntil = end
        if end > now { try await clock.sleep(until: end, tolerance: nil) }
    }
}
