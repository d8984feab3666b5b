import Foundation
import LifeboatCatalog
import LifeboatCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What only reading the locations tells, beside the catalog's ``StatusReport``: whether each
/// location answers and the 3-2-1-1-0 verdict (the same ``LocationAssessment`` as `lifeboat
/// locations`), PRIMARY's free space (statvfs of its folder), and when the newest WAL segment
/// was archived in PRIMARY. The daemon's `/metrics` and alerts read it; a probe lists every
/// location, so a result is kept for `maxAge` and shared by both.
public final class HealthProbe: Sendable {
    public let context: OperationsContext
    public let passphrase: String?
    /// How long a result is used before the locations are read again.
    public let maxAge: TimeInterval
    private let cached = Mutex<Result?>(nil)

    public init(context: OperationsContext, passphrase: String?, maxAge: TimeInterval = 30) {
        self.context = context
        self.passphrase = passphrase
        self.maxAge = maxAge
    }

    public struct Result: Sendable {
        public struct Location: Sendable, Equatable {
            public var name: String
            public var reachable: Bool
            public var problem: String?
        }

        public var probedAt: Date
        public var locations: [Location]
        public var ruleMet: Bool
        public var ruleMissing: [String]
        /// PRIMARY's file system (nil for an S3 PRIMARY or a folder statvfs cannot read).
        public var primaryFreeBytes: Int64?
        public var primaryTotalBytes: Int64?
        /// When the newest archived WAL segment was pushed (nil: none, or PRIMARY unreadable).
        public var newestWalPush: Date?
        /// Why the WAL archive could not be read, if it could not.
        public var walProblem: String?
    }

    /// The last result if younger than `maxAge`, else a new probe.
    public func current(now: Date = Date()) async -> Result {
        if let last = cached.withLock({ $0 }), now.timeIntervalSince(last.probedAt) < maxAge, now >= last.probedAt { return last }
        let result = await probe(now: now)
        cached.withLock { $0 = result }
        return result
    }

    func probe(now: Date) async -> Result {
        let configuration = context.configuration
        let assessment = await LocationAssessment(context: context).assess(verify: false, passphrase: nil)
        var result = Result(
            probedAt: now, locations: assessment.locations.map { .init(name: $0.name, reachable: $0.reachable, problem: $0.problem) },
            ruleMet: assessment.rule.met, ruleMissing: assessment.rule.missing)
        guard let primary = configuration.primary else { return result }
        if !primary.isS3, let space = Self.freeSpace(primary.path) {
            result.primaryFreeBytes = space.free
            result.primaryTotalBytes = space.total
        }
        if configuration.sources.contains(where: { $0.kind == .postgres }), let passphrase {
            do {
                let repository = try await context.repository(in: primary, passphrase: passphrase)
                let archive = WalArchive(repository: repository)
                if let newest = try await archive.list().filter(\.file.isSegment).max(by: { $0.file < $1.file }) {
                    result.newestWalPush = try await archive.read(newest.file).pushed
                }
            } catch {
                result.walProblem = "\(error)"
            }
        }
        return result
    }

    /// Free bytes (for an unprivileged writer, as a backup may run as one) and total bytes of
    /// the file system holding `path`, or of its nearest existing parent.
    static func freeSpace(_ path: String) -> (free: Int64, total: Int64)? {
        var folder = path
        while !FileManager.default.fileExists(atPath: folder), folder != "/" { folder = (folder as NSString).deletingLastPathComponent }
        var s = statvfs()
        guard statvfs(folder, &s) == 0 else { return nil }
        let unit = Int64(s.f_frsize)
        return (Int64(s.f_bavail) * unit, Int64(s.f_blocks) * unit)
    }

    /// What needs a person in `result`: an unreachable location, the 3-2-1-1-0 rule not met,
    /// PRIMARY's free space below `alerts.primaryMinFreePercent`, WAL archiving silent for
    /// longer than a PostgreSQL source's TRANSACTION_LOG schedule allows (twice its interval).
    /// - Parameter report: the catalog's report at the same time (a new source is no problem yet).
    public func conditions(_ result: Result, report: StatusReport, now: Date = Date()) -> [StatusReport.Condition] {
        let configuration = context.configuration
        var conditions: [StatusReport.Condition] = []
        for l in result.locations where !l.reachable {
            conditions.append(
                .init(key: "location-unreachable:\(l.name)", message: "location '\(l.name)' is unreachable (\(l.problem ?? "no answer")): check it, then see `lifeboat locations`"))
        }
        if !result.ruleMet {
            conditions.append(
                .init(
                    key: "rule-3-2-1-1-0",
                    message: "the 3-2-1-1-0 rule is not met (\(result.ruleMissing.joined(separator: ", "))): see `lifeboat locations` for what is missing"))
        }
        if let primary = configuration.primary, let free = result.primaryFreeBytes, let total = result.primaryTotalBytes, total > 0 {
            let limit = configuration.alerts?.primaryMinFreePercent ?? LifeboatConfiguration.Alerts.defaultPrimaryMinFreePercent
            let percent = 100 * Double(free) / Double(total)
            if percent < limit {
                conditions.append(
                    .init(
                        key: "primary-space-low:\(primary.name)",
                        message: "PRIMARY '\(primary.name)' has \(ByteFormat.string(free)) free (\(String(format: "%.1f", percent)) %), below alerts.primaryMinFreePercent \(limit) %: free space or run `lifeboat prune`"))
            }
        }
        let entries = (try? configuration.scheduleEntries()) ?? []
        for source in report.sources where source.kind == .postgres {
            let interval = entries.filter { $0.job == .backup(source: source.name, type: .transactionLog) }.compactMap { e -> Double? in
                guard let a = e.next(after: now), let b = e.next(after: a) else { return nil }
                return b.timeIntervalSince(a)
            }.min()
            guard let interval else { continue }
            let allowance = 2 * interval
            let key = "wal-archiving:\(source.name)"
            if let pushed = result.newestWalPush {
                if now.timeIntervalSince(pushed) > allowance {
                    conditions.append(
                        .init(
                            key: key,
                            message: "source '\(source.name)': no WAL archived for \(StatusReport.age(now.timeIntervalSince(pushed))), beyond \(StatusReport.age(allowance)) (twice its TRANSACTION_LOG interval): check PostgreSQL's archive_command and its log"))
                }
            } else if let problem = result.walProblem {
                conditions.append(.init(key: key, message: "source '\(source.name)': the WAL archive cannot be read (\(problem)): check PRIMARY"))
            } else if source.types.contains(where: { $0.type == BackupType.transactionLog.rawValue && $0.lastSuccess != nil }) {
                // A TRANSACTION_LOG switched the WAL and waited for its archiving, yet none is there.
                conditions.append(
                    .init(
                        key: key,
                        message: "source '\(source.name)': no WAL has ever been archived: set PostgreSQL's archive_command to `lifeboat wal push %p`"))
            }
        }
        return conditions
    }
}
