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

