import Hummingbird
import LifeboatOperations

/// Who may do what, in one middleware the router installs after the error middleware: the
/// bearer token (with the throttle of failed attempts) sets the caller, whom routes check
/// with ``LifeboatRequestContext/require(_:)``.
public struct AccessMiddleware: RouterMiddleware {
    public typealias Context = LifeboatRequestContext

    let bearer: BearerTokenMiddleware

    /// - Parameters:
    ///   - context: the catalog of tokens, and the clock failed attempts are counted on.
    public init(context: OperationsContext) {
        self.init(tokens: AccessTokens(context: context), throttle: AuthenticationThrottle(clock: context.clock))
    }

    init(tokens: AccessTokens, throttle: AuthenticationThrottle) {
        bearer = BearerTokenMiddleware(tokens: tokens, throttle: throttle)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await AuditNote.$current.withValue(AuditNote()) {
            try await bearer.handle(request, context: context, next: next)
        }
    }
}
