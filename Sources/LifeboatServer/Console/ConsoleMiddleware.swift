import Foundation
import HTTPTypes
import Hummingbird
import LifeboatOperations

/// Around every console route: the session from the cookie (its token re-checked against
/// the catalog, so a revoked token logs its sessions out), the security headers every page
/// carries, and errors rendered as a page rather than as the API's JSON. A request without
/// a session that asks for a page is sent to the login form; one that posts a form without
/// a session is refused.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = LifeboatRequestContext

    let console: Console

    /// No script, style, font or frame from anywhere but this server; no inline code.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-store",
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let session = try await console.session(of: request)
        if let session {
            context.identity = session.caller
            AuditNote.current?.caller = session.caller
        }
        var response: Response
        do {
            response = try await ConsoleRequest.$session.withValue(session) {
                try await APIRequestScope.$surface.withValue("console") {
                    try await APIRequestScope.$context.withValue(context) { try await next(request, context) }
                }
            }
        } catch {
            let (status, message, headers) = APIErrorMiddleware<Context>.map(error)
            if status == .internalServerError { context.logger.error("\(request.method) \(request.uri.path) failed: \(error)") }
            if status == .unauthorized, request.method == .get {
                response = Console.redirect(to: "/console/login?next=\(ConsoleRequest.encode(request.uri.path))")
            } else {
                response = console.failurePage(status: status, message: message, back: ConsoleRequest.back(request), session: session)
                response.headers.append(contentsOf: headers.filter { $0.name != .wwwAuthenticate })
                // The audit trail records this answer's status; the message says why.
                AuditNote.current?.refusal = AuditNote.current?.refusal ?? message
            }
        }
        for field in Self.securityHeaders where response.headers[field.name] == nil { response.headers.append(field) }
        return response
    }
}

/// The console request being handled, for the routes: its session, if logged in.
enum ConsoleRequest {
    @TaskLocal static var session: ConsoleSession?

    /// The session, or 401 (which sends a browser to the login page).
    static func requireSession() throws -> ConsoleSession {
        guard let session else { throw HTTPError(.unauthorized, message: "log in first") }
        return session
    }

    /// A path as a query value.
    static func encode(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-_.~"))) ?? "/console"
    }

    /// Where "Back" goes from an error page: the page the form was on, within the console.
    static func back(_ request: Request) -> String {
        let path = request.uri.path
        if request.method == .get { return "/console" }
        return path.hasPrefix("/console/") ? String(path.prefix { $0 != "?" }).components(separatedBy: "/").dropLast().joined(separator: "/") : "/console"
    }
}
