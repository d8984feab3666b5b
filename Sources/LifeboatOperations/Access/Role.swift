/// What a caller of the API or the console may do (DESIGN §9). Each role may do all that the
/// one below it may: an auditor reads everything and the reports; an operator also performs
/// backups, runs drills and approves steps; an admin also creates plans, executes recoveries
/// against production and manages tokens.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case auditor
    case `operator`
    case admin

    public var description: String { rawValue }

    /// Whether a caller with this role may do what needs `required`.
    public func allows(_ required: Role) -> Bool { self >= required }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .auditor: 0
        case .operator: 1
        case .admin: 2
        }
    }
}
