import Foundation
import Hummingbird
import LifeboatAPI
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import Mustache

/// The web console under `/console`: server-rendered pages (``ConsoleTemplates``) over the
/// same Operations calls as the API, which work without JavaScript; only the live view of an
/// execution uses a script. Mutations go through ``APIHandler``'s operations, so a form does
/// exactly what its API call does, with the same role table (``APIAccess``), audit events
/// and errors.
///
/// A person logs in with a token (POST /console/login) and gets an HttpOnly, SameSite=Strict
/// session cookie (``ConsoleSessions``); every form carries the session's CSRF token.
struct Console: Sendable {
    let handler: APIHandler
    let sessions: ConsoleSessions
    let tokens: AccessTokens
    let throttle: AuthenticationThrottle
    /// Cookies are marked Secure when the listener speaks TLS.
    let secureCookies: Bool

    var context: OperationsContext { handler.context }

    static let sessionCookie = "lifeboat_session"
    static let loginCookie = "lifeboat_login"
    /// A form is a few hundred bytes; this bounds what a request can make the server read.
    static let maxFormBytes = 64 * 1024

    func register(on router: Router<LifeboatRequestContext>) {
        let group = router.group("console").add(middleware: ConsoleMiddleware(console: self))
        group.get("static/console.css") { _, _ in Console.asset(ConsoleAssets.css, type: "text/css; charset=utf-8") }
        group.get("static/icon.svg") { _, _ in Console.asset(ConsoleAssets.icon, type: "image/svg+xml") }
        group.get("static/live.js") { _, _ in Console.asset(ConsoleAssets.liveScript, type: "text/javascript; charset=utf-8") }
        group.get("login") { request, context in try await loginPage(request, context: context) }
        group.post("login") { request, context in try await login(request, context: context) }
        group.post("logout") { request, context in try await logout(request, context: context) }
        group.get("") { _, _ in try await dashboard() }
        group.get("backups") { request, _ in try await backups(request) }
        group.post("backups") { request, context in try await performBackup(request, context: context) }
        group.get("backups/:id") { _, context in try await backup(context.parameters.require("id")) }
        group.get("locations") { _, _ in try await locations() }
        group.get("plans") { _, _ in try await plans() }
        group.get("plans/:name") { _, context in try await plan(context.parameters.require("name")) }
        group.post("plans/:name/executions") { request, context in try await execute(request, context: context) }
        group.get("executions/:id") { _, context in try await execution(context.parameters.require("id"), live: false) }
        group.get("executions/:id/live") { _, context in try await execution(context.parameters.require("id"), live: true) }
        group.post("executions/:id/approve") { request, context in try await approve(request, context: context) }
        group.post("executions/:id/cancel") { request, context in try await cancel(request, context: context) }
        group.get("report") { request, _ in try await report(request) }
        // Anything else under /console is a page that says so, not the API's JSON.
        group.get("**") { request, _ -> Response in
            throw HTTPError(.notFound, message: "there is no console page \(request.uri.path): the dashboard is /console")
        }
        // The listener's root is where a person lands first.
        router.get("/") { _, _ in Console.redirect(to: "/console") }
    }

    // MARK: Rendering

    func frame(_ title: String, _ section: ConsoleFrame.Section, session: ConsoleSession?) -> ConsoleFrame {
        ConsoleFrame(title: title, section: section, session: session, version: context.programVersion)
    }

    static func page(_ template: String, _ view: Any, status: HTTPResponse.Status = .ok) -> Response {
        guard let html = ConsoleTemplates.library.render(view, withTemplate: template) else {
            preconditionFailure("no console template \(template)")
        }
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// 303: after a form, the browser GETs the page that shows what it did.
    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    func failurePage(status: HTTPResponse.Status, message: String, back: String, session: ConsoleSession?) -> Response {
        let title = "\(status.code) \(status.reasonPhrase)"
        return Self.page("error", ConsoleViews.Failure(frame: frame(title, .none, session: session), status: title, message: message, back: back), status: status)
    }

    // MARK: Sessions

    /// The request's session, if its cookie names a live one whose token still checks out.
    func session(of request: Request) async throws -> ConsoleSession? {
        guard let id = request.cookies[Self.sessionCookie]?.value, let session = sessions.session(id) else { return nil }
        switch try await tokens.verify(session.token) {
        case .success(let caller): return ConsoleSession(id: id, caller: caller, csrf: session.csrf)
        case .failure:
            sessions.close(id)
            return nil
        }
    }

    func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/console", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// Reads a posted form (URL-encoded, at most ``maxFormBytes``).
    func form<Form: Decodable>(_ type: Form.Type, _ request: Request) async throws -> Form {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxFormBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw HTTPError(.contentTooLarge, message: "the form is larger than \(Self.maxFormBytes) bytes")
        }
        do {
            return try URLEncodedFormDecoder().decode(Form.self, from: String(buffer: body))
        } catch {
            throw HTTPError(.badRequest, message: "the form is malformed: \(error)")
        }
    }

    /// The form of a logged-in session, with its CSRF token checked: a page of another site
    /// cannot post it on the person's behalf.
    func sessionForm<Form: ConsoleForm>(_ type: Form.Type, _ request: Request) async throws -> (ConsoleSession, Form) {
        let session = try ConsoleRequest.requireSession()
        let form = try await form(type, request)
        guard let csrf = form.csrf, AccessTokens.constantTimeEqual(Array(csrf.utf8), Array(session.csrf.utf8)) else {
            throw HTTPError(.forbidden, message: "the form's CSRF token is missing or does not match this session: reload the page and submit it again")
        }
        return (session, form)
    }

    /// The role the API's table asks for `operationID`, or 403.
    func require(_ operationID: String) throws {
        if case .role(let role) = APIAccess.requirement(for: operationID) { try APIRequestScope.require(role) }
    }
}

/// A form posted by a logged-in page. Its CSRF token is optional to the decoder so that a
/// form without one is refused as a forgery (403), not as malformed (400).
protocol ConsoleForm: Decodable {
    var csrf: String? { get }
}
