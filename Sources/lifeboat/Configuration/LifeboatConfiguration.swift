import Foundation
import LifeboatCore
import Yams

/// `lifeboat.yaml`: named storage locations with roles and retention.
///
/// ```yaml
/// locations:
///   - name: primary
///     role: PRIMARY              # PRIMARY | SECONDARY | TERTIARY | AIR_GAPPED
///     path: /srv/backup/repo
///     retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }
///   - name: usb
///     role: TERTIARY
///     path: /mnt/usb1/lifeboat
///     medium: offsite-1          # a write-once removable medium with a manifest
/// ```
///
/// Secrets never live here: the passphrase comes from the flags or the environment.
struct LifeboatConfiguration: Decodable {
    var locations: [Location]

    struct Location: Decodable {
        var name: String
        var role: Role
        var path: String
        var medium: String?
        /// Off the premises (default: every role but PRIMARY).
        var offsite: Bool?
        var retention: Retention?

        var isOffsite: Bool { offsite ?? (role != .primary) }
    }

    enum Role: String, Decodable, CaseIterable {
        case primary = "PRIMARY"
        case secondary = "SECONDARY"
        case tertiary = "TERTIARY"
        case airGapped = "AIR_GAPPED"
    }

    struct Retention: Decodable {
        var keepLast: Int?
        var keepHourly: Int?
        var keepDaily: Int?
        var keepWeekly: Int?
        var keepMonthly: Int?
        var keepYearly: Int?
        var keepWithin: String?
        var keepTags: [String]?

        func policy(in file: String) throws -> RetentionPolicy {
            for (key, value) in [("keepLast", keepLast), ("keepHourly", keepHourly), ("keepDaily", keepDaily), ("keepWeekly", keepWeekly), ("keepMonthly", keepMonthly), ("keepYearly", keepYearly)] {
                if let value, value < 0 { throw CLIError("\(file): \(key) cannot be negative (\(value))") }
            }
            var within: Duration?
            if let keepWithin {
                guard let d = RetentionPolicy.parseDuration(keepWithin) else {
                    throw CLIError("\(file): keepWithin '\(keepWithin)' is not a duration like 36h, 7d, 2w, 6m or 1y")
                }
                within = d
            }
            return RetentionPolicy(
                last: keepLast ?? 0, hourly: keepHourly ?? 0, daily: keepDaily ?? 0, weekly: keepWeekly ?? 0, monthly: keepMonthly ?? 0,
                yearly: keepYearly ?? 0, within: within, tags: keepTags ?? [])
        }
    }

    /// Reads and checks a configuration file.
    /// - Throws: a ``CLIError`` naming the file, the line when YAML gives one, and what was expected.
    static func load(_ path: String) throws -> LifeboatConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the configuration file \(path)")
        }
        let config: LifeboatConfiguration
        do {
            config = try YAMLDecoder().decode(LifeboatConfiguration.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as YamlError {
            throw CLIError("\(path): \(error)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw CLIError("\(path): \(Self.where(context.codingPath)) lacks '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(type, context) {
            throw CLIError("\(path): \(Self.where(context.codingPath)) should be \(type): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw CLIError("\(path): \(Self.where(context.codingPath)): \(context.debugDescription) (roles are \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
        } catch {
            throw CLIError("\(path): \(error)")
        }
        var names = Set<String>()
        for l in config.locations {
            guard names.insert(l.name).inserted else { throw CLIError("\(path): location '\(l.name)' is named twice") }
            guard l.path.hasPrefix("/") || l.path.hasPrefix("s3://") else {
                throw CLIError("\(path): location '\(l.name)': path must be absolute or s3://bucket/prefix, not '\(l.path)'")
            }
            _ = try l.retention?.policy(in: path)
        }
        guard config.locations.filter({ $0.role == .primary }).count <= 1 else { throw CLIError("\(path): more than one PRIMARY location") }
        return config
    }

    private static func `where`(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    func location(named name: String) throws -> Location {
        guard let l = locations.first(where: { $0.name == name }) else {
            throw CLIError("no location named '\(name)' in the configuration: it has \(locations.map(\.name).joined(separator: ", "))")
        }
        return l
    }

    var primary: Location? { locations.first { $0.role == .primary } }

    func backend(for location: Location, create: Bool = false) throws -> any StorageBackend {
        if location.path.hasPrefix("s3://") {
            return PackCachingBackend(
                RetryingBackend(try S3Location.backend(location.path, endpoint: nil, region: nil, environment: ProcessInfo.processInfo.environment)))
        }
        return location.medium != nil
            ? try RemovableMediaBackend(path: location.path, create: create) : try LocalDirectoryBackend(path: location.path, create: create)
    }
}
