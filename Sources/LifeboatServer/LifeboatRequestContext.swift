import Hummingbird
import HummingbirdAuth
import LifeboatOperations
import NIOCore

/// The request context of every route of `lifeboat serve`: Hummingbird's core storage, the
/// caller once authentication middleware has checked their token (nil before that, and on the
/// open routes `/healthz`, `/readyz`), and the peer's address for the audit trail and for
/// slowing down repeated failed authentication.
public struct LifeboatRequestContext: AuthRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Caller?
    /// Whether the request presented a token that was refused (as opposed to none at all).
    public var presentedRefusedToken = false
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text ("127.0.0.1"), or "-" when the channel has none (tests).
    public var peerAddress: String { remoteAddress?.ipAddress ?? "-" }
}

extension LifeboatRequestContext {
    /// The caller, if their role allows what needs `role`: otherwise 401 (no valid token) or
    /// 403 (a valid token whose role is too low). Every route but health and metrics calls it
    /// first, so that nothing reaches the engine for a caller who may not.
    @discardableResult
    public func require(_ role: Role) throws -> Caller {
        guard let caller = identity else {
            // Which refusal it was (unknown, expired, revoked) is the audit trail's to say,
            // not the caller's to learn.
            let message =
                presentedRefusedToken
                ? "the bearer token was refused: it is malformed, unknown, expired or revoked (the audit trail says which); an admin makes a new one with `lifeboat token create`"
                : "a bearer token is required: create one with `lifeboat token create`"
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: message)
        }
        guard caller.role.allows(role) else {
            throw HTTPError(.forbidden, message: "token '\(caller.tokenName)' has role \(caller.role); this needs \(role) or higher")
        }
        return caller
    }
}
