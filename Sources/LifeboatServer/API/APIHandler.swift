import Foundation
import Hummingbird
import LifeboatAPI
import LifeboatCatalog
import LifeboatCore
import LifeboatOperations
import OpenAPIRuntime

/// The operations of docs/openapi.yaml: each validates what the generated types did not,
/// calls the one Operations function its CLI verb calls, and maps the result. Errors are
/// thrown, and get their status in ``APIErrorMiddleware``; roles are checked before a
/// handler runs (``APIAccessMiddleware``). Long work starts through ``APIWork`` and
/// answers 202 once it is recorded.
struct APIHandler: APIProtocol {
    /// The daemon's context, passphrase and WAL fetch command: what its scheduled jobs use,
    /// as of the last SIGHUP reload.
    let live: LiveJobs
    let work: APIWork

    var jobs: ScheduledJobs { live.jobs }

    var context: OperationsContext { jobs.context }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(OpenAPIDocument.yaml + "\n"))))
    }

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        do {
            try await context.withCatalog { _ in }
        } catch {
            throw HTTPError(.serviceUnavailable, message: "the catalog does not open: \(error)")
        }
        return .ok(.init(body: .json(.init(status: .ok, version: context.programVersion))))
    }

    func listSources(_ input: Operations.ListSources.Input) async throws -> Operations.ListSources.Output {
        let report = try await StatusReport.load(context)
        return .ok(.init(body: .json(.init(sources: try report.sources.map(APIRecords.convert)))))
    }

    func listLocations(_ input: Operations.ListLocations.Input) async throws -> Operations.ListLocations.Output {
        let report = await LocationAssessment(context: context).assess(verify: false, passphrase: jobs.passphrase)
        return .ok(.init(body: .json(try APIRecords.convert(report))))
    }
}
