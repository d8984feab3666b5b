import Foundation
import LifeboatCore

/// Why a presented bearer token was not accepted: the audit trail keeps it; the caller only
/// learns that it was refused (401), never which of these it was.
public enum TokenRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not `lbt_` followed by 43 base64url characters.
    case malformed
    /// Well formed, but no token has its hash.
    case unknown
    case expired(name: String, at: Date)
    case revoked(name: String, at: Date)

    /// The token's name, when the token was one of the catalog's.
    public var tokenName: String? {
        switch self {
        case .malformed, .unknown: nil
        case .expired(let name, _), .revoked(let name, _): name
        }
    }

    public var description: String {
        switch self {
        case .malformed: "the bearer token is malformed"
        case .unknown: "the bearer token is not one of the catalog's"
        case .expired(let name, let at): "token '\(name)' expired at \(ISO8601.format(at))"
        case .revoked(let name, let at): "token '\(name)' was revoked at \(ISO8601.format(at))"
        }
    }
}
