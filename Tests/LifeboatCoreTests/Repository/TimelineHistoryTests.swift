import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("TimelineHistory")
struct TimelineHistoryTests {
    static let segmentBytes: UInt64 = 16 << 20

    /// Timeline 3: timeline 1 up to 0/5000028, timeline 2 up to 0/8000000, then 3.
    static let three = """
        1\t0/5000028\tno recovery target specified

        2\t0/8000000\tbefore 2026-11-27 13:45:01.123456+00
        """

    @Test("a history file's lines become stretches of the log, each read from its own timeline from its first segment on")
    func parsesAndPlaces() throws {
        let history = try #require(TimelineHistory(timeline: 3, parsing: Self.three))
        #expect(history.spans.map(\.timeline) == [1, 2, 3])
        #expect(history.spans.map(\.begin) == [LSN(0), LSN("0/5000028")!, LSN("0/8000000")!])
        #expect(history.spans.last?.end == nil)
        let expected: [(UInt64, UInt32)] = [(1, 1), (4, 1), (5, 2), (7, 2), (8, 3), (200, 3)]
        for (segment, timeline) in expected {
            #expect(history.timeline(ofSegment: segment, segmentBytes: Self.segmentBytes) == timeline, "segment \(segment)")
        }
        #expect(history.contains(1) && history.contains(2) && history.contains(3) && !history.contains(4))
        #expect(history.passes(through: 1, upTo: LSN("0/5000000")!))
        #expect(!history.passes(through: 1, upTo: LSN("0/6000000")!))
        #expect(history.passes(through: 3, upTo: LSN("FF/0")!))
        #expect(TimelineHistory(timeline: 1).timeline(ofSegment: 9, segmentBytes: Self.segmentBytes) == 1)
    }

    @Test("what is not a history of the timeline parses to nothing", arguments: [
        "1\tnot-an-lsn\tx", "3\t0/5000000\tancestor not older", "2\t0/5000000\tx\n1\t0/6000000\tout of order", "1\t0/9000000\tx\n2\t0/5000000\tgoes back",
    ])
    func refuses(text: String) {
        #expect(TimelineHistory(timeline: 3, parsing: text) == nil)
    }

    /// Timeline 1 to segment 6; a copy branched timeline 2 off at segment 4 and archived
    /// segments 4 and 6 of it, not 5, which exists only on timeline 1.
    static func branchedArchive(_ scratch: ScratchDirectory) async throws -> WalArchive {
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        let archive = WalArchive(repository: repo)
        let wal = try scratch.sub("pg_wal")
        var names = (1...6).map { "00000001000000000000000\($0)" } + ["000000020000000000000004", "000000020000000000000006"]
        names.append("00000002.history")
        for name in names {
            let text = name.hasSuffix(".history") ? "1\t0/4000000\tno recovery target specified\n" : name
            try text.write(toFile: wal + "/" + name, atomically: true, encoding: .utf8)
            _ = try await archive.push(path: wal + "/" + name, host: "h", username: "u")
        }
        return archive
    }

    @Test("the gap check follows the history: a segment archived only on a timeline recovery does not read there is missing")
    func gapCheckFollowsHistory() async throws {
        let scratch = ScratchDirectory()
        let archive = try await Self.branchedArchive(scratch)
        let last = try #require(WalFileName("000000020000000000000006"))
        let (missing, count) = try await archive.missingSegments(from: LSN("0/1000000")!, firstTimeline: 1, to: last, segmentBytes: Self.segmentBytes)
        #expect(missing == ["000000020000000000000005"])
        #expect(count == 6)
        // Along timeline 1, every segment is there.
        let one = try await archive.missingSegments(
            from: LSN("0/1000000")!, firstTimeline: 1, to: try #require(WalFileName("000000010000000000000006")), segmentBytes: Self.segmentBytes)
        #expect(one.missing.isEmpty)
        // A timeline whose history file is not archived: the history is missing too.
        let three = try await archive.missingSegments(
            from: LSN("0/1000000")!, firstTimeline: 1, to: try #require(WalFileName("000000030000000000000006")), segmentBytes: Self.segmentBytes)
        #expect(three.missing.first == "00000003.history")
    }

    @Test("restores follow the timeline production's snapshots recorded; a timeline no snapshot follows is reported")
    func productionAndUnfollowed() async throws {
        let scratch = ScratchDirectory()
        let archive = try await Self.branchedArchive(scratch)
        func facts(timeline: UInt32, stop: String) -> PostgreSQLFacts {
            PostgreSQLFacts(
                systemIdentifier: "7", serverVersion: "17", dataDirectory: "/d", timeline: timeline, walSegmentBytes: Self.segmentBytes,
                startLSN: LSN("0/2000028")!, stopLSN: LSN(stop)!, startWal: "000000010000000000000002", stopWal: "000000010000000000000003",
                stopTime: Date(), backupLabel: "", tablespaceMap: nil, dataChecksums: true)
        }
        let base = facts(timeline: 1, stop: "0/3000100")
        let onlyBase = try await archive.productionTimeline(from: base, recordedBy: [base])
        #expect(onlyBase.timeline == 1)
        #expect(try await archive.newestTimeline(from: base).timeline == 2)
        let unfollowed = try await archive.unfollowedTimelines(snapshots: [base])
        #expect(unfollowed.map(\.timeline) == [2] && unfollowed.first?.segments == 2)
        // Production promoted onto timeline 2 and backed up there: then it is production's.
        let promoted = facts(timeline: 2, stop: "0/6000000")
        #expect(try await archive.productionTimeline(from: base, recordedBy: [base, promoted]).timeline == 2)
        #expect(try await archive.unfollowedTimelines(snapshots: [base, promoted]).isEmpty)
        // A base that ends after timeline 2 branched off does not recover along it.
        let late = facts(timeline: 1, stop: "0/4800000")
        #expect(try await archive.productionTimeline(from: late, recordedBy: [late, promoted]).timeline == 1)
    }

}
