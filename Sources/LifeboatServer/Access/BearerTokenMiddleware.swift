import Hummingbird
import HummingbirdAuth
import LifeboatOperations

/// Reads `Authorization: Bearer <token>`, checks it against the catalog's tokens and sets
/// `context.identity`. A request without the header goes on anonymous; one whose token is
/// refused (malformed, unknown, expired, revoked) goes on anonymous too, and the failure is
/// remembered against its address: routes that need a role then answer 401 through
/// ``LifeboatRequestContext/require(_:)``, and an address that fails too often is answered
/// 429 with Retry-After before its token is even looked at.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = LifeboatRequestContext

    let tokens: AccessTokens
    let throttle: AuthenticationThrottle

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let address = context.peerAddress
        if let refusal = throttle.refusal(address) { throw refusal }
        var context = context
        switch try await verify(header) {
        case .success(let caller):
            context.identity = caller
            AuditNote.current?.caller = caller
        case .failure(let refusal):
            context.presentedRefusedToken = true
            throttle.recordFailure(address)
            AuditNote.current?.refusal = refusal.description
            AuditNote.current?.tokenName = refusal.tokenName
            context.logger.notice("authentication refused: \(refusal)", metadata: ["address": "\(address)"])
        }
        return try await next(request, context)
    }

    /// The scheme is matched without regard to case (RFC 9110 §11.1); anything but one
    /// Bearer token is malformed.
    private func verify(_ header: String) async throws -> Result<Caller, TokenRefusal> {
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .failure(.malformed) }
        return try await tokens.verify(String(parts[1]))
    }
}
