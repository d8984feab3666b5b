import Foundation
import LifeboatCore

/// One call of the API or the console that changed something or was refused, as the audit
/// trail keeps it: who (token name and role, address), what (method and route, target),
/// how it ended (status, outcome, detail), and its place in the hash chain.
///
/// Each event's `hash` is SHA-256 over its canonical fields and the previous event's hash
/// (``canonicalText``), the first event's previous hash being 64 zeros. A changed field
/// breaks the event's own hash; a deleted, inserted or reordered event breaks the link of
/// the one after it. Rewriting the whole chain from some event on is not caught by the chain
/// alone: the head (`audit verify` prints it), noted elsewhere, catches that.
public struct AuditEvent: Sendable, Codable, Equatable {
    /// 1 for the first event, one more for each after it.
    public var sequence: Int64
    public var at: Date
    public var tokenName: String?
    public var role: String?
    public var address: String
    public var method: String
    /// The route as the router matched it (`/api/backups/{id}`), or the path when none did.
    public var route: String
    public var status: Int
    /// `ok`, `unauthorized`, `forbidden`, `rate-limited`, `rejected` (another 4xx), `failed` (5xx).
    public var outcome: String
    public var target: String?
    /// Why a call was refused or failed, in words (never a token).
    public var detail: String?
    public var previousHash: String
    public var hash: String

    /// The previous hash of the first event.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// What a writer knows of an event; its place in the chain is given when it is appended.
    public struct New: Sendable, Equatable {
        public var at: Date
        public var tokenName: String?
        public var role: String?
        public var address: String
        public var method: String
        public var route: String
        public var status: Int
        public var outcome: String
        public var target: String?
        public var detail: String?

        public init(
            at: Date, tokenName: String?, role: String?, address: String, method: String, route: String, status: Int, outcome: String,
            target: String?, detail: String?
        ) {
            // Milliseconds: what SQLite and PostgreSQL both give back exactly, so the hash
            // computed now is the one recomputed from the stored row.
            self.at = Date(timeIntervalSince1970: (at.timeIntervalSince1970 * 1000).rounded() / 1000)
            self.tokenName = tokenName
            self.role = role
            self.address = address
            self.method = method
            self.route = route
            self.status = status
            self.outcome = outcome
            self.target = target
            self.detail = detail
        }
    }

    init(_ new: New, sequence: Int64, previousHash: String) {
        self.sequence = sequence
        at = new.at
        tokenName = new.tokenName
        role = new.role
        address = new.address
        method = new.method
        route = new.route
        status = new.status
        outcome = new.outcome
        target = new.target
        detail = new.detail
        self.previousHash = previousHash
        hash = ""
        hash = computedHash
    }

    /// The fields in a fixed order, each as its UTF-8 length, a colon and its text (an absent
    /// one as `-`), joined by `|`, after the previous hash and a newline: unambiguous
    /// whatever the fields hold, and independent of any encoder's habits, so that a chain
    /// written by one release verifies in the next. Format version 1.
    public var canonicalText: String {
        let milliseconds = Int64((at.timeIntervalSince1970 * 1000).rounded())
        let fields: [String?] = [
            "v1", String(sequence), String(milliseconds), tokenName, role, address, method, route, String(status), outcome, target, detail,
        ]
        let body = fields.map { field in field.map { "\($0.utf8.count):\($0)" } ?? "-" }.joined(separator: "|")
        return previousHash + "\n" + body
    }

    /// SHA-256 of ``canonicalText``, in hex: what `hash` must be.
    public var computedHash: String {
        Digest256.sha256(Data(canonicalText.utf8)).hex
    }
}
