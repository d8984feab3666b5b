import Foundation

/// What is wrong with `lifeboat.yaml` or with what it points at. Each description names the
/// file (and line when known) and what was expected.
public enum ConfigurationError: Error, Sendable, CustomStringConvertible {
    case unreadable(file: String)
    /// `at` is `file` or `file:line`.
    case invalid(at: String, String)
    case unknownLocation(String, known: [String], file: String)
    case unknownSource(String, known: [String], file: String)
    case noPrimary(file: String)
    /// An environment variable or file named for a secret gave none.
    case missingSecret(String)
    /// A command needs lifeboat.yaml and none was given or found.
    case notConfigured(String)

    public var description: String {
        switch self {
        case .unreadable(let file): return "cannot read the configuration file \(file)"
        case .invalid(let here, let what): return "\(here): \(what)"
        case .unknownLocation(let name, let known, let file):
            return "no location named '\(name)' in \(file.isEmpty ? "the configuration" : file): it has \(known.isEmpty ? "none" : known.joined(separator: ", "))"
        case .unknownSource(let name, let known, let file):
            return "no source named '\(name)' in \(file): it has \(known.isEmpty ? "none" : known.joined(separator: ", "))"
        case .noPrimary(let file): return "\(file) names no PRIMARY location to back up to"
        case .missingSecret(let what): return what
        case .notConfigured(let what): return what
        }
    }
}
