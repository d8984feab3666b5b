import Foundation
import Hummingbird
import LifeboatCatalog
import LifeboatOperations

/// Records every call that may change something (any method but GET, HEAD and OPTIONS),
/// however it ended, and every call refused for who made it (401, 403, 429), in the audit
/// trail, once the response is known: also when the route threw (the error's status, 500 for
/// an error without one). What the caller, the bearer middleware and the route learnt comes
/// from the request's ``AuditNote``.
///
/// The event is written before the response is returned, so an answer the caller saw is in
/// the trail; a trail that cannot be written is logged as an error and the answer still goes
/// out (the call has happened; refusing to say so would not undo it).
struct AuditMiddleware: RouterMiddleware {
    typealias Context = LifeboatRequestContext

    let writer: AuditWriter
    /// Wall-clock time of the events (a test sets it).
    var now: @Sendable () -> Date = { Date() }

    static let readOnlyMethods: Set<HTTPRequest.Method> = [.get, .head, .options]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let note = AuditNote.current ?? AuditNote()
        let result: Result<Response, any Error>
        do {
            result = .success(try await next(request, context))
        } catch {
            result = .failure(error)
        }
        let status: HTTPResponse.Status
        let detail: String?
        switch result {
        case .success(let response):
            status = response.status
            detail = note.refusal
        case .failure(let error):
            status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            detail = note.refusal ?? Self.detail(error)
        }
        let isMutating = !Self.readOnlyMethods.contains(request.method)
        if isMutating || [.unauthorized, .forbidden, .tooManyRequests].contains(status) {
            let event = AuditEvent.New(
                at: now(), tokenName: note.caller?.tokenName ?? note.tokenName, role: note.caller?.role.rawValue, address: context.peerAddress,
                method: request.method.rawValue, route: Self.route(context.endpointPath) ?? request.uri.path, status: status.code, outcome: Self.outcome(status),
                target: note.target ?? (isMutating ? request.uri.path : nil), detail: detail)
            do {
                try await writer.append(event)
            } catch {
                context.logger.error("the audit trail could not record \(event.method) \(event.route) (\(event.status)): \(error)")
            }
        }
        return try result.get()
    }

    /// The matched route's pattern; nil when no route matched (Hummingbird then says
    /// "NotFound" or "FileMiddleware" rather than a path).
    static func route(_ endpointPath: String?) -> String? {
        guard let endpointPath, endpointPath.hasPrefix("/") else { return nil }
        return endpointPath
    }

    static func outcome(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: "unauthorized"
        case 403: "forbidden"
        case 429: "rate-limited"
        case 400..<500: "rejected"
        case 500...: "failed"
        default: "ok"
        }
    }

    /// An HTTP error's message (what the caller was told); any other error's description.
    static func detail(_ error: any Error) -> String {
        if let http = error as? HTTPError, let body = http.body { return body }
        return String(describing: error)
    }
}
