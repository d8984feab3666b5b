/// A PostgreSQL timeline's ancestry, read from its history file (`TTTTTTTT.history`): which
/// timeline the log position at each LSN lies on, as recovery along that timeline reads it.
///
/// A history file has one line per ancestor, oldest first: the ancestor's timeline, a tab,
/// the LSN where the next timeline branched off it, a tab and a reason. Timeline 1 (and
/// any timeline whose history is not archived) has no ancestors.
public struct TimelineHistory: Sendable, Equatable {
    /// One timeline's stretch of the log: from `begin` up to `end` (nil: still open).
    public struct Span: Sendable, Equatable {
        public let timeline: UInt32
        public let begin: LSN
        public let end: LSN?
    }

    /// Oldest first; the last is the timeline itself, open-ended.
    public let spans: [Span]

    public var timeline: UInt32 { spans.last!.timeline }

    /// A timeline with no ancestors (timeline 1, or one whose history is not known).
    public init(timeline: UInt32) {
        spans = [Span(timeline: timeline, begin: LSN(0), end: nil)]
    }

    /// Parses a history file of `timeline`; nil when it is not one (ancestors must be
    /// older timelines, in order, branching at positions that do not go back).
    public init?(timeline: UInt32, parsing text: String) {
        var spans: [Span] = []
        var begin = LSN(0)
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 2, let parent = UInt32(fields[0]), let end = LSN(String(fields[1])), end >= begin,
                timeline > parent, parent > (spans.last?.timeline ?? 0)
            else { return nil }
            spans.append(Span(timeline: parent, begin: begin, end: end))
            begin = end
        }
        spans.append(Span(timeline: timeline, begin: begin, end: nil))
        self.spans = spans
    }

    /// Whether `timeline` is this one or one of its ancestors.
    public func contains(_ timeline: UInt32) -> Bool { spans.contains { $0.timeline == timeline } }

    /// Whether this timeline's line of history runs through `timeline` up to `lsn` at
    /// least: a base backup of `timeline` that ends at `lsn` recovers along it.
    public func passes(through timeline: UInt32, upTo lsn: LSN) -> Bool {
        guard let span = spans.first(where: { $0.timeline == timeline }) else { return false }
        return span.end.map { $0 >= lsn } ?? true
    }

    /// The timeline recovery reads segment `number` from: the newest one whose stretch
    /// begins in or before that segment (PostgreSQL's `XLogFileReadAnyTLI`). The segment
    /// holding a branch point is read from the newer timeline.
    public func timeline(ofSegment number: UInt64, segmentBytes: UInt64) -> UInt32 {
        spans.last { $0.begin.value / segmentBytes <= number }?.timeline ?? spans[0].timeline
    }
}
