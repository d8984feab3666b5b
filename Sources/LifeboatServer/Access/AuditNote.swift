import LifeboatOperations
import Synchronization

/// What is learnt about a request on its way through for its audit event: who made it or why
/// their token was refused, and what it acted on. The access middleware binds one per request; the bearer
/// middleware and the routes fill it in (`AuditNote.current?.target = "source app-db"`).
///
/// A task-local reference rather than a field of the request context: the context is a value
/// passed inwards, and the audit middleware, which writes the event after the response, sits
/// outside the code that learns these things.
public final class AuditNote: Sendable {
    @TaskLocal public static var current: AuditNote?

    private struct State {
        var caller: Caller?
        var refusal: String?
        var tokenName: String?
        var target: String?
    }

    private let state = Mutex(State())

    public init() {}

    /// Who made the request, once their token checked out.
    public var caller: Caller? {
        get { state.withLock { $0.caller } }
        set { state.withLock { $0.caller = newValue } }
    }

    /// Why authentication failed, in words for the audit trail (never the token).
    public var refusal: String? {
        get { state.withLock { $0.refusal } }
        set { state.withLock { $0.refusal = newValue } }
    }

    /// The name of a token that was refused (expired or revoked), when it was one of the catalog's.
    public var tokenName: String? {
        get { state.withLock { $0.tokenName } }
        set { state.withLock { $0.tokenName = newValue } }
    }

    /// What the request acted on ("source app-db", "plan orders r3"), when a route says.
    public var target: String? {
        get { state.withLock { $0.target } }
        set { state.withLock { $0.target = newValue } }
    }
}
