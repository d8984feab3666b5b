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
            var response = Self.response(error.status, code: "http_\(error.status.code)", message: error.body ?? error.status.reasonPhrase)
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
