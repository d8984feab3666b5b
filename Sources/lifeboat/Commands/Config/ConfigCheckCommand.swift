import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate the configuration without running anything.")
    @OptionGroup var repository: RepositoryOptions

    func run() async throws {
        let config = try repository.requireConfiguration(for: "config check")
        print("configuration is valid: \(config.locations.count) locations (\(config.locations.map { "\($0.name) \($0.role.rawValue)" }.joined(separator: ", ")))")
        if !config.sources.isEmpty {
            print("sources: \(config.sources.map { "\($0.name) (\($0.kind.rawValue))" }.joined(separator: ", "))")
        }
        let now = Date()
        for schedule in config.schedules {
            // Validated by load: the expression parses.
            let next = (try? CronExpression(schedule.cron))?.next(after: now).map { ISO8601.format($0) } ?? "never"
            print("schedule: \(schedule.source) \(schedule.type.rawValue) '\(schedule.cron)', next \(next)")
        }
        if let catalog = config.catalog {
            print("catalog: \(catalog.sqlite.map { "sqlite \($0)" } ?? "postgres \(catalog.postgres ?? "")")")
        }
    }
}
