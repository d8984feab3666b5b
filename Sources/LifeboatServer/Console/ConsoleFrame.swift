import LifeboatOperations

/// What every page shows around its content: the title, the navigation, who is logged in
/// (with the CSRF token the logout form carries), and whether the page is live.
struct ConsoleFrame: Sendable {
    enum Section: Sendable { case dashboard, backups, locations, plans, report, none }

    var title: String
    var user: String?
    var role: String?
    var csrf: String?
    var version: String
    /// The page refreshes itself (live.js, or a meta refresh without JavaScript).
    var live = false
    /// One sentence about what the last form did ("the drill started").
    var notice: String?
    var onDashboard = false
    var onBackups = false
    var onLocations = false
    var onPlans = false
    var onReport = false

    init(title: String, section: Section, session: ConsoleSession?, version: String) {
        self.title = title
        self.version = version
        user = session?.caller.tokenName
        role = session?.caller.role.rawValue
        csrf = session?.csrf
        switch section {
        case .dashboard: onDashboard = true
        case .backups: onBackups = true
        case .locations: onLocations = true
        case .plans: onPlans = true
        case .report: onReport = true
        case .none: break
        }
    }
}

/// A logged-in request: who, and the CSRF token their forms carry.
struct ConsoleSession: Sendable {
    var id: String
    var caller: Caller
    var csrf: String

    func allows(_ role: Role) -> Bool { caller.role.allows(role) }
}

/// One option of a `<select>`.
struct ConsoleOption: Sendable {
    var value: String
    var selected: Bool

    static func list(_ values: [String], selected: String?) -> [ConsoleOption] {
        values.map { ConsoleOption(value: $0, selected: $0 == selected) }
    }
}
