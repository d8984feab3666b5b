import Foundation
import LifeboatCatalog
import LifeboatCore

extension LifeboatConfiguration {
    /// The seed's schedule, for a source with none of its own: FULL on Sunday at 02:00,
    /// INCREMENTAL daily at 02:00 (the FULL wins on Sunday: they share a lane), and for
    /// PostgreSQL a TRANSACTION_LOG every four hours.
    public static func seedSchedule(for kind: SourceKind) -> [(type: BackupType, cron: String)] {
        var seed: [(BackupType, String)] = [(.full, "0 2 * * 0"), (.incremental, "0 2 * * *")]
        if kind == .postgres { seed.append((.transactionLog, "0 */4 * * *")) }
        return seed
    }

    /// What the daemon's scheduler runs: each source's cron schedules (the seed's when it has
    /// none; ON_CHANGE ones belong to the change watcher), and a prune of PRIMARY.
    /// - Throws: ``ConfigurationError`` for a time zone or cron expression that does not
    ///   parse (validation refuses those earlier).
    public func scheduleEntries() throws -> [ScheduleEntry] {
        let settings = serverSettings
        let defaultZone = try settings.defaultTimeZone()
        func zone(_ name: String?) throws -> TimeZone {
            guard let name else { return defaultZone }
            guard let zone = TimeZone(identifier: name) else {
                throw ConfigurationError.invalid(at: file, "timeZone '\(name)' is not a time zone name such as Europe/Berlin or UTC")
            }
            return zone
        }
        func cron(_ text: String) throws -> CronExpression {
            do { return try CronExpression(text) } catch { throw ConfigurationError.invalid(at: file, "cron '\(text)': \(error)") }
        }
        var entries: [ScheduleEntry] = []
        for source in sources {
            let own = schedules.filter { $0.source == source.name }
            if own.isEmpty {
                for seed in Self.seedSchedule(for: source.kind) {
                    entries.append(ScheduleEntry(job: .backup(source: source.name, type: seed.type), cron: try cron(seed.cron), timeZone: defaultZone))
                }
            }
            for schedule in own where (schedule.scheduleType ?? .scheduled) == .scheduled {
                entries.append(
                    ScheduleEntry(job: .backup(source: source.name, type: schedule.type), cron: try cron(schedule.cron), timeZone: try zone(schedule.timeZone)))
            }
        }
        if let primary {
            entries.append(ScheduleEntry(job: .prune(repository: primary.name), cron: try cron(settings.prune ?? Server.defaultPrune), timeZone: defaultZone))
        }
        return entries
    }
}

extension LifeboatConfiguration {
    /// A source backed up when its files change (a schedule with `scheduleType: ON_CHANGE`).
    public struct ChangeWatch: Sendable, Equatable {
        public var source: String
        public var type: BackupType
        public var paths: [String]
    }

    /// What the daemon's change watcher watches: each ON_CHANGE schedule's source paths.
    public func changeWatches() -> [ChangeWatch] {
        schedules.filter { $0.scheduleType == .onChange }.compactMap { schedule in
            guard let source = sources.first(where: { $0.name == schedule.source }), let paths = source.paths, !paths.isEmpty else { return nil }
            return ChangeWatch(source: source.name, type: schedule.type, paths: paths)
        }
    }
}
