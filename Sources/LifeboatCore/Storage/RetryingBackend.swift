import Foundation

/// Retries a backend's transient failures (5xx, 429, timeouts, resets) with exponential
/// backoff and full jitter; every other error passes through at once.
///
/// Safe because every operation is idempotent: objects are immutable and named by their
/// content, a write either happened whole or not at all, and a write that did happen
/// before its answer was lost is found by the retry as "already exists" with the same bytes.
public struct RetryingBackend: StorageBackend {
    public let inner: any StorageBackend
    public var attempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Paces the backoff (a test clock makes the waits happen on demand).
    public var clock: any Clock<Duration>

    public init(
        _ inner: any StorageBackend, attempts: Int = 6, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(10),
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.inner = inner
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.clock = clock
    }

    public var locationDescription: String { inner.locationDescription }

    private func retrying<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch StorageError.transient(let what, let location) {
                attempt += 1
                guard attempt < attempts else { throw StorageError.transient("\(what) (gave up after \(attempts) attempts)", location: location) }
                let ceiling = min(maxDelay, baseDelay * (1 << min(attempt - 1, 16)))
                let jitter = Double.random(in: 0...1)
                try await clock.sleep(for: ceiling * jitter)
            }
        }
    }

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        var triedBefore = false
        try await retrying {
            defer { triedBefore = true }
            do {
                try await inner.write(name, bytes: bytes, overwrite: overwrite)
            } catch StorageError.alreadyExists where triedBefore {
                // An earlier attempt went through but its answer was lost: check it is ours.
                guard try await inner.read(name) == bytes else { throw StorageError.alreadyExists(name, location: locationDescription) }
            }
        }
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] { try await retrying { try await inner.read(name) } }
    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        try await retrying { try await inner.read(name, offset: offset, length: length) }
    }
    public func size(of name: ObjectName) async throws -> Int { try await retrying { try await inner.size(of: name) } }
    public func listing(_ kind: ObjectKind) async throws -> ObjectListing { try await retrying { try await inner.listing(kind) } }
    public func removeStaleTemporaries(olderThan date: Date) async throws -> Int {
        try await inner.removeStaleTemporaries(olderThan: date)
    }

    public func delete(_ name: ObjectName) async throws {
        try await retrying {
            do {
                try await inner.delete(name)
            } catch StorageError.objectNotFound {
                // Deleted by an attempt whose answer was lost: done.
            }
        }
    }
}
