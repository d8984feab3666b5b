import Hummingbird
import LifeboatOperations

/// The request context of the API call being handled, for the generated handlers, which see
/// only the OpenAPI request: ``APIRequestScopeMiddleware`` binds it around each API route.
enum APIRequestScope {
    @TaskLocal static var context: LifeboatRequestContext?
    /// Where the call came from, for the catalog's "requested by": the API, or the console
    /// (whose forms call the same operations).
    @TaskLocal static var surface = "api"

    /// The caller, if their role allows `role`; otherwise 401 or 403 (``LifeboatRequestContext/require(_:)``).
    @discardableResult
    static func require(_ role: Role) throws -> Caller {
        guard let context else {
            // Only reachable if a route were served outside the API's group.
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "a bearer token is required: create one with `lifeboat token create`")
        }
        return try context.require(role)
    }

    /// Who the catalog says asked: the token's name, marked with the way it came (api, console).
    static var requester: String {
        context?.identity.map { "\($0.tokenName) (\(surface))" } ?? surface
    }
}

/// Binds ``APIRequestScope/context`` for the API's routes.
struct APIRequestScopeMiddleware: RouterMiddleware {
    typealias Context = LifeboatRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await APIRequestScope.$context.withValue(context) { try await next(request, context) }
    }
}
