import Hummingbird
import LifeboatAPI
import OpenAPIHummingbird
import OpenAPIRuntime

extension Daemon {
    /// The API of docs/openapi.yaml under /api: its errors rendered as the server's, bodies
    /// bounded, the caller's role checked per operation, POSTs idempotent by key; long work
    /// runs in ``apiWork``.
    /// - Returns: the handler, which the console's forms call too.
    @discardableResult
    func addAPI(to router: Router<LifeboatRequestContext>) -> APIHandler {
        let group = router.group()
            .add(middleware: APIErrorMiddleware())
            .add(middleware: APIBodyLimitMiddleware())
            .add(middleware: APIRequestScopeMiddleware())
        let handler = APIHandler(live: live, work: apiWork)
        do {
            try handler.registerHandlers(
                on: group, configuration: .init(dateTranscoder: APIDateTranscoder()),
                middlewares: [APIAccessMiddleware(), IdempotencyMiddleware(context: context), LocationHeaderMiddleware()])
        } catch {
            // Only a path of the generated code that Hummingbird cannot parse throws: a bug.
            preconditionFailure("the API's routes do not register: \(error)")
        }
        return handler
    }
}
