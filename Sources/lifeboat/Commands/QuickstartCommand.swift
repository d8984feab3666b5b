import ArgumentParser
import Foundation
import LifeboatCore

/// The whole story on the embedded default, in a scratch directory: a sample application
/// is backed up, changed, backed up again, checked, restored and compared.
struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Run a complete backup-and-restore cycle on a sample application in a scratch directory.")

    @Option(name: .long, help: "Work in this directory instead of a new temporary one (it is kept).")
    var directory: String?

    @Flag(name: .long, help: "Keep the temporary directory afterwards.")
    var keep = false

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        var base = directory ?? (NSTemporaryDirectory() + "lifeboat-quickstart-\(UUID().uuidString.prefix(8))")
        if !base.hasPrefix("/") { base = FileManager.default.currentDirectoryPath + "/" + base }
        let fm = FileManager.default
        try fm.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer {
            // A scratch directory we made is ours to remove; failure to remove it loses nothing.
            if directory == nil && !keep { try? fm.removeItem(atPath: base) }
        }
        let app = base + "/app"
        let repoPath = base + "/repository"
        let restorePath = base + "/restore"
        say("Lifeboat quickstart in \(base)")

        try SampleApplication.create(at: app)
        say("1. made a sample application in \(app): configuration, data files, logs, a symlink, an empty directory")

        let backend = try LocalDirectoryBackend(path: repoPath, create: true)
        let passphrase = Digest256.random().hex
        fm.createFile(atPath: base + "/passphrase", contents: Data(passphrase.utf8), attributes: [.posixPermissions: 0o600])
        let repo = try await Repository.initialize(backend: backend, passphrase: passphrase, host: Identity.host, username: Identity.username)
        say("2. created an encrypted repository (PRIMARY) at \(repoPath); passphrase in \(base)/passphrase")

        var options = BackupOptions(paths: [app], type: .full, host: Identity.host, username: Identity.username)
        options.programVersion = Lifeboat.version
        let full = try await Archiver(repository: repo).backup(options)
        report("3. FULL backup", full)

        try SampleApplication.change(at: app)
        say("4. changed the application: appended to a log, edited the configuration, added an upload, removed a file")

        options.type = .incremental
        let incremental = try await Archiver(repository: repo).backup(options)
        report("5. INCREMENTAL backup", incremental)

        let check = try await Checker(repository: repo).check(readData: true)
        say("6. check --read-data: \(check.packsChecked) packs, \(check.blobsChecked) blobs, \(check.snapshotsChecked) snapshots: \(check.isOK ? "no errors" : check.errors.joined(separator: "; "))")

        var restoreOptions = RestoreOptions(target: restorePath)
        restoreOptions.verify = true
        let restoreStart = clock.now
        let restored = try await Restorer(repository: repo).restore(incremental.snapshot, options: restoreOptions)
        let restoreSeconds = (clock.now - restoreStart).seconds
        say("7. restored the INCREMENTAL snapshot to \(restorePath) in \(String(format: "%.2f", restoreSeconds)) s: \(restored.filesRestored) files, \(restored.filesVerified) verified")

        let differences = DirectoryComparison.differences(app, restorePath + app)
        say("8. compared the restore with the application: \(differences.isEmpty ? "identical (content, modes, times, links)" : "\(differences.count) differences")")
        for d in differences.prefix(20) { say("   \(d)") }

        let ok = check.isOK && restored.isComplete && differences.isEmpty
        say("\(ok ? "OK" : "FAILED"): 2 snapshots, \(ByteFormat.string(Int64(try await backend.list(.data).reduce(0) { $0 + $1.sizeBytes }))) of packs, in \(String(format: "%.1f", (clock.now - started).seconds)) s\(directory != nil || keep ? "; files kept in \(base)" : "")")
        if !ok { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }

    private func say(_ line: String) { print(line) }

    private func report(_ what: String, _ r: BackupResult) {
        let s = r.snapshot.statistics
        say("\(what) \(r.snapshotID.shortHex): \(s.filesNew) new, \(s.filesChanged) changed, \(s.filesUnmodified) unmodified files; read \(ByteFormat.string(s.bytesRead)), added \(ByteFormat.string(s.bytesAdded)) in \(String(format: "%.2f", s.durationSeconds)) s")
    }
}

/// A small application tree: configuration, data, logs and a few edge cases.
enum SampleApplication {
    static func create(at root: String) throws {
        let fm = FileManager.default
        for dir in ["config", "data/uploads", "logs", "cache/empty"] {
            try fm.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
        try "database:\n  path: data/app.db\n  pool: 8\nlisten: 127.0.0.1:8080\n".write(toFile: "\(root)/config/app.yaml", atomically: true, encoding: .utf8)
        try "level: info\n".write(toFile: "\(root)/config/logging.yaml", atomically: true, encoding: .utf8)
        var rng = SeededGenerator(seed: 42)
        for i in 0..<40 {
            let size = 2_000 + Int(rng.next() % 200_000)
            let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            fm.createFile(atPath: "\(root)/data/uploads/upload-\(i).bin", contents: Data(bytes))
        }
        var records = ""
        for i in 0..<20_000 { records += "\(i),customer-\(i % 997),\(i * 37 % 10_000).\(i % 100)\n" }
        try records.write(toFile: "\(root)/data/orders.csv", atomically: true, encoding: .utf8)
        var log = ""
        for i in 0..<5_000 { log += "2026-01-01T00:\(String(format: "%02d", i / 100 % 60)):00Z INFO request \(i) served in \(i % 97) ms\n" }
        try log.write(toFile: "\(root)/logs/app.log", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: "\(root)/config/current", withDestinationPath: "app.yaml")
    }

    static func change(at root: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(root)/logs/app.log"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("2026-01-02T00:00:00Z INFO quickstart changed things\n".utf8))
        try handle.close()
        try "database:\n  path: data/app.db\n  pool: 16\nlisten: 127.0.0.1:8080\n".write(toFile: "\(root)/config/app.yaml", atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: "\(root)/data/uploads/new-upload.bin", contents: Data((0..<50_000).map { UInt8($0 % 251) }))
        try FileManager.default.removeItem(atPath: "\(root)/data/uploads/upload-0.bin")
    }
}

/// SplitMix64: reproducible sample data.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
