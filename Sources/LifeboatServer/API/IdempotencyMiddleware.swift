import Crypto
import Foundation
import HTTPTypes
import LifeboatAPI
import Hummingbird
import LifeboatCatalog
import LifeboatOperations
import OpenAPIRuntime

/// `Idempotency-Key` on a POST: the first request with a key reserves it in the catalog and,
/// when it succeeds, records its answer; a retry with the same key (from the same token)
/// gets that answer back (`Idempotent-Replayed: true`) instead of a second backup or
/// recovery. The same key with another request is 422; a retry while the first still runs
/// is 409. A failed first request frees its key, so that the retry does the work.
struct IdempotencyMiddleware: ServerMiddleware {
    let context: OperationsContext

    static let keyField = HTTPField.Name("Idempotency-Key")!
    static let replayedField = HTTPField.Name("Idempotent-Replayed")!
    /// The answers replayed are records of a few KiB; a larger one is not stored.
    static let maxAnswerBytes = 4 << 20
    /// Operations whose answers are secrets (a new token's text).
    static let unreplayable: Set<String> = [Operations.CreateToken.id]

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard request.method == .post, let key = request.headerFields[Self.keyField] else { return try await next(request, body, metadata) }
        // An answer that holds a secret is never stored to be replayed: such an operation
        // is made safe to retry otherwise (a token's name is never reused: a retry is a 409).
        if Self.unreplayable.contains(operationID) { return try await next(request, body, metadata) }
        try APIRecords.require((1...200).contains(key.count), "the Idempotency-Key must be 1 to 200 characters, not \(key.count)")
        // The body was read whole (and bounded) by APIBodyLimitMiddleware.
        var bytes: [UInt8] = []
        if let body { bytes = try await [UInt8](collecting: body, upTo: .max) }
        var hasher = SHA256()
        hasher.update(data: Data("\(operationID) \(request.path ?? "")\n".utf8))
        hasher.update(data: bytes)
        let hash = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let caller = APIRequestScope.context?.identity?.tokenName ?? "-"
        let reservation = try await context.withCatalog {
            try await $0.reserveIdempotencyKey(caller: caller, key: key, operation: operationID, requestHash: hash)
        }
        switch reservation {
        case .known(let first):
            guard first.operation == operationID, first.requestHash == hash else {
                throw HTTPError(
                    .unprocessableContent, message: "the Idempotency-Key '\(key)' was used for another request: use a new key for a new request")
            }
            guard let status = first.status else {
                throw HTTPError(.conflict, message: "the first request with Idempotency-Key '\(key)' is still being answered: retry in a moment")
            }
            var response = HTTPResponse(status: .init(code: status))
            response.headerFields[.contentType] = "application/json; charset=utf-8"
            response.headerFields[Self.replayedField] = "true"
            if let location = first.location { response.headerFields[.location] = location }
            return (response, HTTPBody(first.body ?? ""))
        case .reserved(let id):
            let answer: (HTTPResponse, String)
            do {
                let (response, responseBody) = try await next(request, HTTPBody(bytes), metadata)
                var text = ""
                if let responseBody { text = try await String(collecting: responseBody, upTo: Self.maxAnswerBytes) }
                answer = (response, text)
            } catch {
                await release(id)
                throw error
            }
            let (response, text) = answer
            if (200..<300).contains(response.status.code) {
                let location = response.headerFields[.location]
                try await context.withCatalog { try await $0.completeIdempotencyKey(id, status: response.status.code, location: location, body: text) }
            } else {
                await release(id)
            }
            return (response, HTTPBody(text))
        }
    }

    private func release(_ id: UUID) async {
        do {
            try await context.withCatalog { try await $0.releaseIdempotencyKey(id) }
        } catch {
            // The request's own error is the answer; a key left reserved answers its
            // retries with 409 until it expires (Catalog.idempotencyKeyLifetime).
            context.logger.warning("the idempotency key of a failed request stays reserved: \(error)")
        }
    }
}
