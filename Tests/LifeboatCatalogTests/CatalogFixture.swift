import Foundation
import LifeboatCatalog
import LifeboatCore
import LifeboatTestSupport
import Testing

/// The two databases a catalog lives in; every catalog test runs on each.
enum CatalogKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgres
    var description: String { rawValue }

    /// PostgreSQL where its server programs are installed (scripts/test installs them).
    static var available: [CatalogKind] { ScratchPostgres.isAvailable ? [.sqlite, .postgres] : [.sqlite] }
}

/// A fresh, empty catalog of one kind, and what it needs kept alive (the scratch cluster).
final class CatalogFixture: @unchecked Sendable {
    // @unchecked Sendable: set once in init; released with the test.
    let scratch = ScratchDirectory("catalog")
    let location: CatalogLocation
    private let server: ScratchPostgres?

    init(_ kind: CatalogKind) throws {
        switch kind {
        case .sqlite:
            server = nil
            location = .sqlite(path: scratch.path + "/catalog.sqlite")
        case .postgres:
            let s = try ScratchPostgres()
            server = s
            location = .postgres(url: s.url, password: nil)
        }
    }

    func open() async throws -> Catalog { try await Catalog.open(location) }
}

/// A small application tree, a PRIMARY repository and a removable medium for the pipeline.
struct PipelineFixture {
    let scratch: ScratchDirectory
    let app: String
    let primary: Repository
    let mediumPath: String

    init(_ scratch: ScratchDirectory) async throws {
        self.scratch = scratch
        app = try scratch.sub("app")
        _ = try scratch.sub("app/config")
        _ = try scratch.sub("app/data")
        var rng = SeededBytes(seed: 5)
        try FileTree.write(app + "/config/app.yaml", Array("listen: 127.0.0.1:8080\n".utf8))
        try FileTree.write(app + "/data/blob.bin", rng.bytes(300_000))
        primary = try await TestRepository.create(at: scratch.path + "/primary")
        mediumPath = try scratch.sub("media") + "/usb-1"
    }

    /// The medium as `lifeboat.yaml` would give it: created only where its mount point exists.
    func medium(retention: RetentionPolicy? = nil) -> BackupPipeline.Location {
        let path = mediumPath
        return BackupPipeline.Location(name: "usb", role: .tertiary, medium: "usb-1", retention: retention) {
            let mounted = FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent)
            return try RemovableMediaBackend(path: path, create: mounted)
        }
    }

    func pipeline(_ locations: [BackupPipeline.Location], primaryRetention: RetentionPolicy? = nil) -> BackupPipeline {
        var p = BackupPipeline(primary: primary, primaryName: "primary", locations: locations, passphrase: TestRepository.passphrase)
        p.primaryRetention = primaryRetention
        return p
    }

    func request(_ source: BackupPipeline.Source? = nil, type: BackupType? = nil) -> BackupPipeline.Request {
        BackupPipeline.Request(sourceName: "app", source: source ?? .files(paths: [app], excludes: []), type: type, host: "testhost", username: "tester")
    }

    /// Runs the pipeline with its BackupLog row, as `lifeboat run` does; returns the row.
    @discardableResult
    func run(
        _ pipeline: BackupPipeline, _ request: BackupPipeline.Request, catalog: Catalog,
        stopAfter: BackupPipeline.Stage? = nil
    ) async throws -> BackupRecord {
        let new = Catalog.NewBackup(
            type: request.type?.rawValue ?? "AUTO", scheduleType: .manual, source: request.sourceName, sourceKind: request.source.kind,
            requestedBy: "tester", host: "testhost", pid: Int(getpid()))
        do {
            return try await BackupLogRecorder.run(pipeline, request, in: catalog, as: new) { event in
                if let stopAfter, stopAfter == event.stage { throw SimulatedCrash() }
            }
        } catch {
            // A failed run is recorded as such; a simulated crash left the row as it was.
            // Either way the row, the newest one, says what the test looks for.
            return try #require(try await catalog.backups(BackupFilter(limit: 1)).first)
        }
    }
}

struct SimulatedCrash: Error {}

/// A process id that is certainly not running: a child that has exited and been reaped.
func deadProcessID() throws -> Int {
    var pid = pid_t()
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
    defer { argv.forEach { free($0) } }
    guard posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0 else { throw SimulatedCrash() }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return Int(pid)
}
