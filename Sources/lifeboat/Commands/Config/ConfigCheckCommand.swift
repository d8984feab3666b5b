import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate the configuration, then probe what a run needs.",
        discussion: """
            The file is read strictly: an unknown key, a value of the wrong kind or a YAML syntax \
            error is an error naming the file, the line and the column (and the nearest known key \
            or value). Then each source's paths must be readable and its password found, the \
            passphrase file readable, each location reachable with its credentials and holding a \
            repository, the catalog reachable (--no-probe skips this). Exits 1 when something a run \
            needs is wrong, 3 when only something expected at times is (a removable medium not \
            mounted, an AIR_GAPPED location offline, a copy location with no repository yet).
            """)
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .long, help: "Only read and validate the file; reach nothing.")
    var noProbe = false

    func run() async throws {
        let context = try repository.context(for: "config check")
        let config = context.configuration
        let report: ConfigurationProbe.Report? =
            noProbe ? nil : await ConfigurationProbe(context: context).probe(passphraseFile: repository.passwordFileInUse, passphraseOrigin: repository.passphraseOrigin())
        if output.json {
            try JSONOutput.print(
                ConfigCheckJSON(
                    file: config.file, valid: true, locations: config.locations.map { .init(name: $0.name, role: $0.role.rawValue, path: $0.path) },
                    sources: config.sources.map { .init(source: $0.name, sourceKind: $0.kind.rawValue) },
                    schedules: config.schedules.map { .init(source: $0.source, type: $0.type.rawValue, cron: $0.cron, next: Self.next($0.cron)) },
                    probes: report?.findings, errors: report?.errors ?? 0, warnings: report?.warnings ?? 0))
        } else {
            print("configuration is valid: \(config.locations.count) locations (\(config.locations.map { "\($0.name) \($0.role.rawValue)" }.joined(separator: ", ")))")
            if !config.sources.isEmpty {
                print("sources: \(config.sources.map { "\($0.name) (\($0.kind.rawValue))" }.joined(separator: ", "))")
            }
            for schedule in config.schedules {
                print("schedule: \(schedule.source) \(schedule.type.rawValue) '\(schedule.cron)', next \(Self.next(schedule.cron) ?? "never")")
            }
            if let catalog = config.catalog {
                print("catalog: \(catalog.sqlite.map { "sqlite \($0)" } ?? "postgres \(catalog.postgres ?? "")")")
            }
            for finding in report?.findings ?? [] {
                print("\(finding.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(finding.subject): \(finding.detail)")
            }
            if let report {
                print(report.errors == 0 && report.warnings == 0 ? "ready to run" : "\(report.errors) errors, \(report.warnings) warnings")
            }
        }
        if let report, report.errors > 0 { throw ExitCode(ExitStatus.failure.rawValue) }
        if let report, report.warnings > 0 { throw ExitCode(ExitStatus.partial.rawValue) }
    }

    /// The schedule's next time (validated by load: the expression parses).
    private static func next(_ cron: String) -> String? {
        (try? CronExpression(cron))?.next(after: Date()).map { ISO8601.format($0) }
    }
}

/// `config check --json`.
struct ConfigCheckJSON: Encodable {
    struct Location: Encodable {
        let name: String
        let role: String
        let path: String
    }
    struct Source: Encodable {
        let source: String
        let sourceKind: String
    }
    struct Schedule: Encodable {
        let source: String
        let type: String
        let cron: String
        let next: String?
    }
    let file: String
    let valid: Bool
    let locations: [Location]
    let sources: [Source]
    let schedules: [Schedule]
    /// Absent with --no-probe.
    let probes: [ConfigurationProbe.Finding]?
    let errors: Int
    let warnings: Int
}
