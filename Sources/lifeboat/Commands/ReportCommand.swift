import ArgumentParser
import Foundation
import LifeboatOperations

/// `lifeboat report`: the disaster-recovery evidence per plan (RecoveryReport).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the disaster-recovery evidence: per plan, its targets, every drill and execution against them, the next drill due, verified restores, revisions.",
        discussion: "Markdown (the default), one self-contained HTML page, or JSON; on stdout unless --output names a file.")

    @OptionGroup var repository: RepositoryOptions

    @Option(name: .long, help: "Only this plan.")
    var plan: String?

    @Option(name: .long, help: "markdown (default), html or json.")
    var format: ReportFormat = .markdown

    @Option(name: .long, help: "Write it to this file instead of stdout.")
    var output: String?

    enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
        case markdown, html, json
    }

    func run() async throws {
        let report = try await RecoveryPlans(context: try repository.context(for: "report")).report(plan: plan)
        switch format {
        case .markdown: try DocumentOutput.write(report.document.markdown, to: output)
        case .html: try DocumentOutput.write(report.document.html, to: output)
        case .json:
            if let output {
                try DocumentOutput.write(try JSONOutput.string(report), to: output)
            } else {
                try JSONOutput.print(report)
            }
        }
    }
}
