import Foundation
import Hummingbird
import LifeboatOperations

extension Console {
    struct LoginForm: Decodable {
        var token: String
        var csrf: String?
        var next: String?
    }

    struct LogoutForm: ConsoleForm {
        var csrf: String?
    }

    /// The login form, with a fresh login CSRF token in a cookie and in the form (a page of
    /// another site cannot log a browser in with the attacker's token).
    func loginPage(_ request: Request, context: LifeboatRequestContext) async throws -> Response {
        if ConsoleRequest.session != nil { return Self.redirect(to: "/console") }
        return loginForm(next: request.uri.queryParameters.get("next"), failure: nil, status: .ok)
    }

    func loginForm(next: String?, failure: String?, status: HTTPResponse.Status) -> Response {
        let loginCSRF = ConsoleSessions.randomText()
        var response = Self.page(
            "login", ConsoleViews.Login(frame: frame("Log in", .none, session: nil), failure: failure, next: Self.safeNext(next), loginCSRF: loginCSRF),
            status: status)
        response.setCookie(cookie(Self.loginCookie, loginCSRF, maxAge: 3600))
        return response
    }

    /// Exchanges a token for a session. A refused token counts against the address like a
    /// refused bearer token does (``AuthenticationThrottle``).
    func login(_ request: Request, context: LifeboatRequestContext) async throws -> Response {
        let address = context.peerAddress
        if let refusal = throttle.refusal(address) { throw refusal }
        let form = try await form(LoginForm.self, request)
        guard let expected = request.cookies[Self.loginCookie]?.value, !expected.isEmpty, let csrf = form.csrf,
            AccessTokens.constantTimeEqual(Array(csrf.utf8), Array(expected.utf8))
        else {
            throw HTTPError(.forbidden, message: "the login form has expired or came from another page: reload it and log in again")
        }
        switch try await tokens.verify(form.token.trimmingCharacters(in: .whitespacesAndNewlines)) {
        case .failure(let refusal):
            throttle.recordFailure(address)
            AuditNote.current?.refusal = refusal.description
            AuditNote.current?.tokenName = refusal.tokenName
            context.logger.notice("console login refused: \(refusal)", metadata: ["address": "\(address)"])
            // As for a bearer token: which refusal it was is for the audit trail.
            return loginForm(
                next: form.next, failure: "That token is not accepted: it is mistyped, unknown, expired or revoked. An admin makes a new one with `lifeboat token create`.",
                status: .unauthorized)
        case .success(let caller):
            AuditNote.current?.caller = caller
            AuditNote.current?.target = "console session"
            let (id, _) = sessions.open(token: form.token.trimmingCharacters(in: .whitespacesAndNewlines))
            var response = Self.redirect(to: Self.safeNext(form.next))
            response.setCookie(cookie(Self.sessionCookie, id, maxAge: Int(ConsoleSessions.lifetime)))
            response.setCookie(cookie(Self.loginCookie, "", maxAge: 0))
            return response
        }
    }

    func logout(_ request: Request, context: LifeboatRequestContext) async throws -> Response {
        let (session, _) = try await sessionForm(LogoutForm.self, request)
        sessions.close(session.id)
        AuditNote.current?.target = "console session"
        var response = Self.redirect(to: "/console/login")
        response.setCookie(cookie(Self.sessionCookie, "", maxAge: 0))
        return response
    }

    /// Where to go after logging in: a console path, never another site ("//evil", "https:").
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/console"), !next.hasPrefix("//"), !next.contains("\\"), !next.contains(":") else { return "/console" }
        return next
    }
}
