import Foundation
import HTTPTypes
import OpenAPIRuntime

/// The generated serializer writes header values URI-encoded (OpenAPI's `simple` style:
/// `/api/backups/1` becomes `%2Fapi%2Fbackups%2F1`); a Location is a URI reference and must
/// stay one, so it is decoded back here, once, for every operation.
struct LocationHeaderMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, body) = try await next(request, body, metadata)
        if let location = response.headerFields[.location], let decoded = location.removingPercentEncoding {
            response.headerFields[.location] = decoded
        }
        return (response, body)
    }
}
