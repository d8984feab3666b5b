import HTTPTypes
import OpenAPIRuntime

/// Checks the caller's role for the operation (``APIAccess``) before its body is decoded or
/// its handler runs: nothing reaches the engine for a caller who may not.
struct APIAccessMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if case .role(let role) = APIAccess.requirement(for: operationID) { try APIRequestScope.require(role) }
        return try await next(request, body, metadata)
    }
}
