import Foundation
import LifeboatCore
import LifeboatOperations
import Synchronization

/// The console's sessions, in the daemon's memory: a login exchanges a token for a random
/// session id that the browser keeps in an HttpOnly cookie, so that the token itself is never
/// stored by the browser nor sent again. Each request re-checks the session's token against
/// the catalog (``AccessTokens/verify(_:)``), so that revoking or expiring a token ends its
/// sessions at once; a restart of the daemon ends them all (a person logs in again).
public final class ConsoleSessions: Sendable {
    /// A logged-in browser.
    struct Session: Sendable {
        /// The token it logged in with (memory only): re-verified on every request.
        let token: String
        /// The CSRF token its forms carry.
        let csrf: String
        let expires: Date
    }

    /// How long a session lasts from its login, whatever the token's own expiry (which is
    /// checked on every request too).
    public static let lifetime: TimeInterval = 8 * 3600
    /// The most sessions kept: the oldest is dropped for a new one (a login needs a valid
    /// token, so only a token holder can fill the table).
    static let capacity = 1024

    private let sessions = Mutex<[String: Session]>([:])
    let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Starts a session for a token that has just been verified.
    /// - Returns: the session id (the cookie's value) and its CSRF token.
    func open(token: String) -> (id: String, csrf: String) {
        let id = Self.randomText()
        let session = Session(token: token, csrf: Self.randomText(), expires: now().addingTimeInterval(Self.lifetime))
        let date = now()
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > date }
            if sessions.count >= Self.capacity, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
                sessions[oldest.key] = nil
            }
            sessions[id] = session
        }
        return (id, session.csrf)
    }

    /// The live session with this id, if any.
    func session(_ id: String) -> Session? {
        let date = now()
        return sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            if session.expires <= date {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    func close(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// 32 random bytes as base64url: a session id or a CSRF token.
    static func randomText() -> String {
        AccessTokens.base64url(Digest256.random().bytes)
    }
}
