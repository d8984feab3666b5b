import Foundation
import Hummingbird
import LifeboatOperations

/// The one place where errors become HTTP (STYLE §3): `{"error": {"code", "message"}}`.
/// Hummingbird's own HTTP errors (404, 405) keep their status; anything else is a 500 with
/// the error's one-sentence description (which never carries a secret).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            var response = Self.response(error.status, code: ErrorCode.of(error.status), message: error.body ?? error.status.reasonPhrase)
            // The error's own headers stay: WWW-Authenticate on a 401 (RFC 9110 §11.6.1), Allow on a 405.
            response.headers.append(contentsOf: error.headers)
            return response
        } catch {
            context.logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            return Self.response(.internalServerError, code: "internal", message: "\(error)")
        }
    }

    static func response(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": ["code": code, "message": message]])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The error's code: its status in words (`not_found`), stable for clients to match; the
/// same for the API's routes, the token checks and health, whichever middleware answers.
enum ErrorCode {
    static func of(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 409: "conflict"
        case 413: "too_large"
        case 422: "unprocessable"
        case 429: "too_many_requests"
        case 503: "unavailable"
        case 500: "internal"
        default: "http_\(status.code)"
        }
    }
}
