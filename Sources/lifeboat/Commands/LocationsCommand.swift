import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct LocationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locations",
        abstract: "The configured storage locations, their state, and the 3-2-1-1-0 verdict.",
        discussion: """
            3 copies, 2 media types, 1 off-site, 1 offline or immutable (removable media, \
            AIR_GAPPED copies and S3 locations with objectLock), 0 errors at the last verification \
            of every copy (--verify reads every object and records the result in the catalog). \
            Exits 3 when the rule is not met.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Flag(help: "Check every object of every location against its SHA-256 and manifest.")
    var verify = false

    func run() async throws {
        let context = try repository.context(for: "locations")
        // Without a passphrase, snapshot times are left out.
        let passphrase = try? repository.passphrase()
        let report = await LocationAssessment(context: context).assess(verify: verify, passphrase: passphrase)
        for w in report.warnings { FileHandle.standardError.write(Data("lifeboat: warning: \(w)\n".utf8)) }
        if output.json {
            try JSONOutput.print(report)
        } else {
            let now = Date()
            var table = TextTable()
            for s in report.locations {
                let age = s.newestSnapshot.map { "newest \(Int(now.timeIntervalSince($0) / 3600)) h ago" } ?? "newest unknown"
                let state = s.reachable ? "\(s.snapshots) snapshots, \(age), \(ByteFormat.string(s.bytes))" : "UNREACHABLE: \(s.problem ?? "")"
                let verified =
                    s.verificationErrors.map { $0 == 0 ? ", verified" : ", \($0) ERRORS" }
                    ?? s.lastVerified.map { ", last verified \(ISO8601.format($0).prefix(16)) (\(s.lastVerificationErrors ?? 0) errors)" } ?? ", never verified"
                table.append([s.name, s.role.rawValue, "\(s.location): \(state)\(verified)"])
            }
            // Names and roles in columns as wide as the longest; the errors after the table.
            table.print()
            for s in report.locations {
                for d in s.verificationDetails { print("  error in \(s.name): \(d)") }
            }
            print("3-2-1-1-0: \(report.rule.met ? "met" : "NOT met (\(report.rule.missing.joined(separator: ", ")))")")
        }
        if !report.rule.met { throw ExitCode(ExitStatus.partial.rawValue) }
    }
}
