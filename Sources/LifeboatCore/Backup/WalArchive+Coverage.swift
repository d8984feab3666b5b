import Foundation

/// Whether the archive covers what a backup needs: the WAL from a base backup's start to
/// its stop must be archived before its snapshot is written, and a TRANSACTION_LOG
/// snapshot proves that no segment is missing since its base.
extension WalArchive {
    /// Waits until every file is archived here.
    /// - Throws: ``PostgreSQLSourceError/walNotArchived(missing:location:)`` naming the missing ones after `timeout`.
    /// - Parameter clock: paces the look-ups and measures the timeout.
    func awaitArchived(_ files: [WalFileName], timeout: Duration, clock: some Clock<Duration> = ContinuousClock()) async throws {
        let deadline = clock.now.advanced(by: timeout)
        var pause = Duration.milliseconds(50)
        while true {
            let present = Set(try await list().map(\.file))
            let missing = files.filter { !present.contains($0) }
            if missing.isEmpty { return }
            if clock.now >= deadline {
                throw PostgreSQLSourceError.walNotArchived(missing: missing.map(\.name), location: repository.location)
            }
            // Quick at first (a push takes a fraction of a second), then at most once a second.
            try await clock.sleep(for: pause)
            pause = min(pause * 2, .seconds(1))
        }
    }

    /// The segments from the one holding `start` to `last` that are archived on no timeline
    /// from `firstTimeline` to `last`'s: across a promotion a segment number may live on
    /// any timeline from the base's to now.
    /// - Returns: the missing segments (named on `last`'s timeline) and how many the range holds.
    func missingSegments(from start: LSN, firstTimeline: UInt32, to last: WalFileName, segmentBytes: UInt64) async throws -> (missing: [String], count: Int) {
        let first = start.value / segmentBytes
        let lastNumber = last.segmentNumber(segmentBytes: segmentBytes)!
        var archived: [UInt64: Set<UInt32>] = [:]
        for entry in try await list() {
            if let n = entry.file.segmentNumber(segmentBytes: segmentBytes) { archived[n, default: []].insert(entry.file.timeline) }
        }
        let missing = (first...max(first, lastNumber)).filter { n in
            !(archived[n]?.contains { $0 >= firstTimeline && $0 <= last.timeline } ?? false)
        }.map { WalFileName(timeline: last.timeline, segmentNumber: $0, segmentBytes: segmentBytes).name }
        return (missing, Int(max(first, lastNumber) - first + 1))
    }
}
