import LifeboatCatalog

/// The result of walking the audit trail's hash chain: intact, or the first event where it
/// breaks and why.
public struct AuditVerification: Sendable, Codable, Equatable {
    /// Events checked, up to and including the first bad one.
    public var eventsChecked: Int
    /// The newest event's sequence and hash when the chain is intact: noted elsewhere, they
    /// show later that no event was removed from the end or the chain rewritten.
    public var headSequence: Int64?
    public var headHash: String?
    public var firstBreak: Break?

    public var isIntact: Bool { firstBreak == nil }

    public struct Break: Sendable, Codable, Equatable, CustomStringConvertible {
        /// The sequence the bad event has in the catalog.
        public var sequence: Int64
        public var reason: Reason

        public enum Reason: String, Sendable, Codable {
            /// Its fields are not those its hash was computed over: it was changed.
            case changed
            /// It does not name the event before it as its predecessor: one was deleted,
            /// inserted or moved before it, or the one before was changed along with its hash.
            case brokenLink = "broken-link"
            /// Its sequence is not one more than the previous event's: one was deleted or
            /// renumbered.
            case outOfSequence = "out-of-sequence"
        }

        public var description: String {
            switch reason {
            case .changed: "event \(sequence) was changed: its fields do not match its hash"
            case .brokenLink:
                "event \(sequence) does not follow the event before it: its previous hash is not that event's hash (an event before it was deleted, inserted, moved or rewritten)"
            case .outOfSequence: "event \(sequence) is out of sequence: the event before it is missing or was renumbered"
            }
        }
    }

    public init(chain: [AuditEvent]) {
        var previous: AuditEvent?
        var checked = 0
        for event in chain {
            checked += 1
            if event.previousHash != (previous?.hash ?? AuditEvent.genesisHash) {
                self.init(eventsChecked: checked, firstBreak: Break(sequence: event.sequence, reason: .brokenLink))
                return
            }
            if event.sequence != (previous?.sequence ?? 0) + 1 {
                self.init(eventsChecked: checked, firstBreak: Break(sequence: event.sequence, reason: .outOfSequence))
                return
            }
            if event.computedHash != event.hash {
                self.init(eventsChecked: checked, firstBreak: Break(sequence: event.sequence, reason: .changed))
                return
            }
            previous = event
        }
        self.init(eventsChecked: checked, headSequence: previous?.sequence, headHash: previous?.hash, firstBreak: nil)
    }

    init(eventsChecked: Int, headSequence: Int64? = nil, headHash: String? = nil, firstBreak: Break?) {
        self.eventsChecked = eventsChecked
        self.headSequence = headSequence
        self.headHash = headHash
        self.firstBreak = firstBreak
    }
}
