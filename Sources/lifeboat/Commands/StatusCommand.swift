import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Where the backups stand, from the catalog (no daemon needed); exit 3 when something needs a person.",
        discussion: """
            Per source: the last success of each backup type and its next scheduled run, the age \
            of the newest restorable point against the source's rpo (default: twice its most \
            frequent schedule's interval), the last restoration test. Per location: copies still \
            PENDING. Per recovery plan: its last drill and when the next is due. Exit 0 when all \
            is well; 3 when something needs a person (an RPO breached, a last run that failed or \
            was interrupted, a restoration test failed, missing or older than 8 days, a copy pending for over a day, a recovery plan's last drill failed or \
            its testing interval passed without a successful drill), each said in one sentence.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let context = try repository.context(for: "status")
        let report = try await StatusReport.load(context)
        if output.json {
            try JSONOutput.print(report)
        } else {
            print(Self.text(report), terminator: "")
        }
        if report.needsAttention { throw ExitCode(ExitStatus.partial.rawValue) }
    }

    static func text(_ report: StatusReport) -> String {
        func time(_ date: Date?) -> String { date.map { String(ISO8601.format($0).prefix(19)).replacingOccurrences(of: "T", with: " ") } ?? "never" }
        var out = ""
        for s in report.sources {
            out += "source \(s.name) (\(s.kind.rawValue))\n"
            for t in s.types {
                let last = t.lastStatus.map { " (last run \($0.rawValue))" } ?? ""
                out += "  \(t.type.padding(toLength: 16, withPad: " ", startingAt: 0))last success \(time(t.lastSuccess))  next \(t.nextRun.map { time($0) + " UTC" } ?? "not scheduled")\(last)\n"
            }
            let lag = s.rpoLagSeconds.map { "\(StatusReport.age($0)) old" } ?? "none yet"
            let verdict = (s.rpoLagSeconds ?? .infinity) <= s.rpoTargetSeconds ? "ok" : "BREACHED"
            out += "  newest restorable point \(lag), RPO \(StatusReport.age(s.rpoTargetSeconds))\(s.rpoTargetIsConfigured ? "" : " (default)"): \(verdict)\n"
            out += "  restoration test: \(s.lastRestorationTest.map { "\(time($0)) \(s.lastRestorationTestPassed == true ? "PASSED" : "FAILED")" } ?? "never")\n"
        }
        for l in report.locations {
            let pending = l.pendingCopies == 0 ? "no copy pending" : "\(l.pendingCopies) pending, the oldest \(StatusReport.age(l.oldestPendingSeconds ?? 0)) old"
            out += "location \(l.name) (\(l.role.rawValue)): \(pending)\n"
        }
        for p in report.plans {
            let last = p.lastDrill.map { "last drill \(time($0)) \(p.lastDrillPassed == true ? "PASSED" : "FAILED")" } ?? "never drilled"
            let next = p.nextDrillDue.map { ", next due \(time($0)) UTC" } ?? ", not drilled on a schedule"
            out += "plan \(p.name): \(last)\(next)\n"
        }
        if report.problems.isEmpty {
            out += "all is well\n"
        } else {
            out += "needs attention:\n" + report.problems.map { "  - \($0)\n" }.joined()
        }
        return out
    }
}
