import Foundation
import Hummingbird
import LifeboatOperations

/// Who may do what, in one middleware the router installs after the error middleware: the
/// audit middleware outermost (it sees every answer, refusals included), then the bearer
/// token (with the throttle of failed attempts), which sets the caller whom routes check with
/// ``LifeboatRequestContext/require(_:)``. Each request gets its ``AuditNote``.
public struct AccessMiddleware: RouterMiddleware {
    public typealias Context = LifeboatRequestContext

    let audit: AuditMiddleware
    let bearer: BearerTokenMiddleware

    /// - Parameters:
    ///   - context: the catalog of tokens and of the audit trail, and the clock failed
    ///     attempts are counted on.
    ///   - throttle: how many failed authentications from one address are let through.
    public init(context: OperationsContext, throttle: AuthenticationThrottle.Policy = .init()) {
        self.init(context: context, throttle: AuthenticationThrottle(policy: throttle, clock: context.clock))
    }

    /// With a throttle shared with the console's login form: failures through either count.
    public init(context: OperationsContext, throttle: AuthenticationThrottle) {
        self.init(tokens: AccessTokens(context: context), throttle: throttle, writer: AuditWriter(trail: AuditTrail(context: context)))
    }

    init(tokens: AccessTokens, throttle: AuthenticationThrottle, writer: AuditWriter, now: @escaping @Sendable () -> Date = { Date() }) {
        audit = AuditMiddleware(writer: writer, now: now)
        bearer = BearerTokenMiddleware(tokens: tokens, throttle: throttle)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await AuditNote.$current.withValue(AuditNote()) {
            try await audit.handle(request, context: context) { request, context in
                try await bearer.handle(request, context: context, next: next)
            }
        }
    }
}
