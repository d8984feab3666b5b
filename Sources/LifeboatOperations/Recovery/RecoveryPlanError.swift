import Foundation

/// What is wrong with a plan document, or with the plan a command names. Each
/// description names the file and line (when known) and what was expected.
public enum RecoveryPlanError: Error, Sendable, CustomStringConvertible {
    case unreadable(file: String)
    /// `at` is `file` or `file:line`.
    case invalid(at: String, String)
    case unknownPlan(String, known: [String])
    case unknownRevision(String, Int, newest: Int)

    public var description: String {
        switch self {
        case .unreadable(let file): return "cannot read the plan file \(file): check that it exists and is readable"
        case .invalid(let here, let what): return "\(here): \(what)"
        case .unknownPlan(let name, let known):
            return "no plan named '\(name)' in the catalog: it has \(known.isEmpty ? "none (add one with 'plan create FILE')" : known.joined(separator: ", "))"
        case .unknownRevision(let name, let revision, let newest):
            return "plan '\(name)' has no revision \(revision): its revisions are 1 to \(newest)"
        }
    }
}
