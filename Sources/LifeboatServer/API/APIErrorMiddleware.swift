import Foundation
import Hummingbird
import LifeboatCatalog
import LifeboatOperations
import OpenAPIRuntime

/// Maps what an API route threw to its HTTP status and renders it as every error of the
/// server is (``ErrorMiddleware``'s `{"error": {"code", "message"}}`): the one place where
/// the API's errors get a status (STYLE §3). The generated server wraps every error in a
/// `ServerError`; what it wraps decides: a request that did not decode is 400, Operations'
/// errors get the status of what they mean, anything else is 500.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, message, headers) = Self.map(error)
            if status == .internalServerError { context.logger.error("\(request.method) \(request.uri.path) failed: \(error)") }
            var response = ErrorMiddleware<Context>.response(status, code: ErrorCode.of(status), message: message)
            response.headers.append(contentsOf: headers)
            return response
        }
    }

    static func map(_ error: any Error) -> (HTTPResponse.Status, String, HTTPFields) {
        guard let server = error as? ServerError else { return mapCause(error) }
        let cause = server.underlyingError
        if cause is HTTPError || cause is DecodingError { return mapCause(cause) }
        // Thrown before the handler had its input: the request did not decode (a missing or
        // malformed parameter, header or body).
        if server.operationInput == nil, !isOperationsError(cause) {
            return (.badRequest, "the request is malformed: \(server.causeDescription) (\(cause)); see /api/openapi.yaml", [:])
        }
        return mapCause(cause)
    }

    static func mapCause(_ error: any Error) -> (HTTPResponse.Status, String, HTTPFields) {
        switch error {
        case let error as HTTPError: return (error.status, error.body ?? error.status.reasonPhrase, error.headers)
        case let error as DecodingError: return (.badRequest, "the request body is malformed: \(Self.describe(error)); see /api/openapi.yaml", [:])
        case let error as BackupJobError:
            if case .alreadyRunning = error { return (.conflict, "\(error)", [:]) }
            return (.internalServerError, "\(error)", [:])
        case let error as ConfigurationError:
            switch error {
            case .unknownSource, .unknownLocation, .invalid: return (.unprocessableContent, "\(error)", [:])
            default: return (.internalServerError, "\(error)", [:])
            }
        case let error as RecoveryPlanError:
            switch error {
            case .unknownPlan, .unknownRevision: return (.notFound, "\(error)", [:])
            case .invalid, .unreadable: return (.unprocessableContent, "\(error)", [:])
            }
        case let error as RecoveryError:
            switch error {
            case .unknownExecution, .unknownStep: return (.notFound, "\(error)", [:])
            case .alreadyFinished, .heldByAnother, .notWaitingForApproval: return (.conflict, "\(error)", [:])
            default: return (.internalServerError, "\(error)", [:])
            }
        case let error as AccessError:
            switch error {
            case .invalidName, .invalidLifetime: return (.badRequest, "\(error)", [:])
            case .duplicateName: return (.conflict, "\(error)", [:])
            case .unknownToken: return (.notFound, "\(error)", [:])
            }
        case let error as APIWorkError:
            if case .shuttingDown = error { return (.serviceUnavailable, "\(error)", [:]) }
            return (.internalServerError, "\(error)", [:])
        default: return (.internalServerError, "\(error)", [:])
        }
    }

    static func isOperationsError(_ error: any Error) -> Bool {
        error is BackupJobError || error is ConfigurationError || error is RecoveryPlanError || error is RecoveryError || error is APIWorkError
            || error is AccessError
            || error is CatalogError
    }

    /// A decoding error in one sentence, with where in the body it happened.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "the body" : String(p.dropFirst(p.hasPrefix(".") ? 1 : 0))
        }
        switch error {
        case .keyNotFound(let key, let c): return "\(path(c)) lacks the required field '\(key.stringValue)'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return "\(path(c)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
