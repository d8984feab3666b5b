/// What goes wrong managing bearer tokens.
public enum AccessError: Error, Sendable, CustomStringConvertible {
    case invalidName(String)
    case duplicateName(String)
    case unknownToken(String, known: [String])
    case invalidLifetime(String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "'\(name)' cannot name a token: use 1 to 64 letters, digits, '.', '_' or '-'"
        case .duplicateName(let name):
            return "a token named '\(name)' exists already (names are never reused, revoked or not): choose another name"
        case .unknownToken(let name, let known):
            return "no token named '\(name)' in the catalog: it has \(known.isEmpty ? "none (create one with 'token create')" : known.joined(separator: ", "))"
        case .invalidLifetime(let text):
            return "'\(text)' is not a token lifetime: give a positive number with a unit, such as 12h, 90d or 52w, of at most 100 years"
        }
    }
}
