import Hummingbird

/// Reads a request's whole body before anything else, up to `maxBytes`: a larger one is
/// refused with 413 and never reaches a handler (a plan or a request is a few KiB).
struct APIBodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// 1 MiB.
    static var defaultMaxBytes: Int { 1 << 20 }

    var maxBytes = Self.defaultMaxBytes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBytes {
            throw Self.tooLarge(maxBytes)
        }
        do {
            _ = try await request.collectBody(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Self.tooLarge(maxBytes)
        }
        return try await next(request, context)
    }

    static func tooLarge(_ maxBytes: Int) -> HTTPError {
        HTTPError(.contentTooLarge, message: "the request body is larger than \(maxBytes) bytes, the most the API accepts: send a smaller one")
    }
}
