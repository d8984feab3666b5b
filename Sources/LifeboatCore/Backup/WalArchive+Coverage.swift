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

    /// The segments from the one holding `start` to `last` that are not archived on the
    /// timeline recovery reads them from: `last`'s history says which timeline is live for
    /// each stretch of the log, and a segment archived on another timeline (one a restored
    /// copy branched off, or one production left) does not count. A history file of
    /// `last`'s timeline that is not archived is missing too: recovery needs it.
    /// - Returns: the missing files and how many segments the range holds.
    func missingSegments(from start: LSN, firstTimeline: UInt32, to last: WalFileName, segmentBytes: UInt64) async throws -> (missing: [String], count: Int) {
        let first = start.value / segmentBytes
        let lastNumber = last.segmentNumber(segmentBytes: segmentBytes)!
        let entries = try await list()
        var archived: [UInt64: Set<UInt32>] = [:]
        for entry in entries {
            if let n = entry.file.segmentNumber(segmentBytes: segmentBytes) { archived[n, default: []].insert(entry.file.timeline) }
        }
        var missing: [String] = []
        let historyName = WalFileName.hex8(UInt64(last.timeline)) + ".history"
        if last.timeline > firstTimeline && !entries.contains(where: { $0.file.name == historyName }) { missing.append(historyName) }
        let lastHistory = try await history(of: last.timeline)
        for n in first...max(first, lastNumber) {
            let live = max(firstTimeline, lastHistory.timeline(ofSegment: n, segmentBytes: segmentBytes))
            if !(archived[n]?.contains(live) ?? false) {
                missing.append(WalFileName(timeline: live, segmentNumber: n, segmentBytes: segmentBytes).name)
            }
        }
        return (missing, Int(max(first, lastNumber) - first + 1))
    }
}
