import ArgumentParser
import Foundation
import LifeboatOperations

struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check the audit trail's hash chain from its first event.",
        discussion: """
            Each event's hash covers its fields and the previous event's hash: a changed, deleted, inserted or moved \
            event breaks the chain at the first event after the damage. Note the head it prints: a chain cut short or \
            rewritten from some event on is caught by comparing heads. Exit status: 0 intact; 13 broken (the first bad \
            event and why).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let result = try await AuditTrail(context: try repository.context(for: "audit verify")).verify()
        if output.json {
            try JSONOutput.print(AuditVerifyJSON(result))
        } else if let broken = result.firstBreak {
            print("audit trail BROKEN at event \(broken.sequence) (\(result.eventsChecked) checked): \(broken)")
        } else if let head = result.headSequence, let hash = result.headHash {
            print("audit trail intact: \(result.eventsChecked) events; head \(head) \(hash)")
        } else {
            print("audit trail intact: no events yet")
        }
        if !result.isIntact { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }
}

/// `{"intact", "eventsChecked", "headSequence", "headHash", "firstBreak": {"sequence", "reason", "message"}}`, nulls where absent.
struct AuditVerifyJSON: Encodable {
    let result: AuditVerification

    init(_ result: AuditVerification) { self.result = result }

    enum CodingKeys: String, CodingKey { case intact, eventsChecked, headSequence, headHash, firstBreak }
    enum BreakKeys: String, CodingKey { case sequence, reason, message }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(result.isIntact, forKey: .intact)
        try c.encode(result.eventsChecked, forKey: .eventsChecked)
        try c.encode(result.headSequence, forKey: .headSequence)
        try c.encode(result.headHash, forKey: .headHash)
        if let broken = result.firstBreak {
            var b = c.nestedContainer(keyedBy: BreakKeys.self, forKey: .firstBreak)
            try b.encode(broken.sequence, forKey: .sequence)
            try b.encode(broken.reason.rawValue, forKey: .reason)
            try b.encode(broken.description, forKey: .message)
        } else {
            try c.encodeNil(forKey: .firstBreak)
        }
    }
}
