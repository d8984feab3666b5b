import Foundation
import LifeboatCore
import LifeboatOperations
import LifeboatTestSupport

/// A lifeboat.yaml with a PRIMARY repository, a files source and a SQLite catalog beside
/// it, loaded into an ``OperationsContext`` as the CLI would load it.
struct OperationsFixture {
    let scratch: ScratchDirectory
    let app: String
    let context: OperationsContext

    init(_ scratch: ScratchDirectory, environment: [String: String] = [:], extraSources: String = "") async throws {
        self.scratch = scratch
        app = try scratch.sub("app")
        var rng = SeededBytes(seed: 11)
        try FileTree.write(app + "/settings.yaml", Array("pool: 8\n".utf8))
        try FileTree.write(app + "/data.bin", rng.bytes(200_000))
        _ = try await TestRepository.create(at: scratch.path + "/primary")
        let config = scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
              - { name: usb, role: TERTIARY, path: \(try scratch.sub("media"))/usb-1, medium: usb-1 }
            sources:
              - { name: app, kind: files, paths: [\(app)] }
            \(extraSources)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        context = OperationsContext(
            configuration: try LifeboatConfiguration.load(config), secrets: SecretLookup(environment: environment),
            backends: LocationBackends(environment: environment), requester: Requester(host: "testhost", username: "tester"), programVersion: "test")
    }
}
