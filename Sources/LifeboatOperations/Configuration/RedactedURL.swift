import Foundation

/// A webhook's URL as it may be shown: in a terminal, a runbook, a report, a step's log or
/// an error. Such a URL is often its own secret (Slack's `/services/T…/B…/<secret>`, a
/// `?token=` query, a `user:password@`), so only what names the endpoint is kept: the
/// scheme, the host and the port; a path, a query or a fragment become `…`. What is sent
/// is always the URL itself.
struct RedactedURL: CustomStringConvertible, Sendable {
    let description: String

    init(_ url: String) {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, let host = parts.percentEncodedHost, !host.isEmpty else {
            // Nothing of an unparsable one is safe to show: any of it may be the secret.
            description = "(a URL that cannot be parsed)"
            return
        }
        let port = parts.port.map { ":\($0)" } ?? ""
        let hasMore = !(parts.percentEncodedPath.isEmpty || parts.percentEncodedPath == "/") || parts.percentEncodedQuery != nil || parts.percentEncodedFragment != nil
        description = "\(scheme)://\(host)\(port)/\(hasMore ? "…" : "")"
    }

    /// `text` without the URL's secret parts: the whole URL, its path with its query, its
    /// path and its query (an HTTP client's error may quote any of them) become the redacted form.
    static func scrub(_ text: String, of url: String) -> String {
        let redacted = RedactedURL(url).description
        var result = text.replacingOccurrences(of: url, with: redacted)
        guard let parts = URLComponents(string: url) else { return result }
        let path = parts.percentEncodedPath
        let query = parts.percentEncodedQuery
        var pieces: [String] = []
        if let query { pieces.append(path + "?" + query) }
        if path.count > 1 { pieces.append(path) }
        if let query, !query.isEmpty { pieces.append(query) }
        if let user = parts.percentEncodedUser, !user.isEmpty { pieces.append(user) }
        if let password = parts.percentEncodedPassword, !password.isEmpty { pieces.append(password) }
        for piece in pieces { result = result.replacingOccurrences(of: piece, with: "…") }
        return result
    }
}
