import Foundation
import Hummingbird
import LifeboatAPI
import LifeboatCatalog
import LifeboatCore
import OpenAPIRuntime

/// Operations' records as the API's schemas. The schemas of docs/openapi.yaml describe the
/// records' own JSON (`lifeboat … --json`), so a record becomes its schema by encoding it
/// and decoding that: a field renamed in a record and not in the document fails here (and
/// in the tests), not silently.
enum APIRecords {
    static func convert<T: Decodable>(_ value: some Encodable) throws -> T {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(ISO8601.format(date))
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = ISO8601.parse(text) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 time: \(text)") }
            return date
        }
        return try decoder.decode(T.self, from: try encoder.encode(value))
    }

    /// A JSON body as the text a plan revision keeps: keys sorted, so that the same plan
    /// sent twice is the same text (and adds no revision).
    static func jsonText(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    static func uuid(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw HTTPError(.badRequest, message: "'\(text)' is not a record id: ids are UUIDs such as 0f8fad5b-d9cb-469f-a165-70867728950e")
        }
        return id
    }

    /// The document's constraints the generated code does not check (lengths, ranges): 400
    /// with `message` when `condition` fails, as for any request that does not fit the document.
    static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw HTTPError(.badRequest, message: message()) }
    }

    static func location(backup id: UUID) -> String { "/api/backups/\(id.uuidString.lowercased())" }
    static func location(execution id: UUID) -> String { "/api/executions/\(id.uuidString.lowercased())" }
    static func location(plan revision: RecoveryPlanRevision) -> String {
        "/api/plans/\(revision.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? revision.name)?revision=\(revision.revision)"
    }

    static func notFound(_ message: String) -> HTTPError { HTTPError(.notFound, message: message) }

    /// The generated types admit only the document's content types: another never decodes.
    static var unsupportedBody: HTTPError { HTTPError(.unsupportedMediaType, message: "the body's content type is not one the operation accepts: see /api/openapi.yaml") }

    /// A record read back right after it was written is gone (deleted by hand meanwhile).
    static func vanished(_ what: String) -> HTTPError { HTTPError(.internalServerError, message: "\(what) was started but its record is gone from the catalog") }
}

/// Times as the rest of Lifeboat writes them (with fractional seconds); read with or without.
struct APIDateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String { ISO8601.format(date) }

    func decode(_ text: String) throws -> Date {
        guard let date = ISO8601.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "'\(text)' is not an ISO 8601 time such as 2026-11-27T13:45:00Z"))
        }
        return date
    }
}
