import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("lifeboat robustness: passphrases, locks, crashes, damage, exit statuses")
struct RobustnessCLITests {
    @Test("a wrong passphrase is a clear error with exit 12, and nothing is written")
    func wrongPassphrase() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/f", [1])
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let before = TestRepository.allObjects(at: cli.repository)
        var env = cli.environment
        env.removeValue(forKey: "LIFEBOAT_PASSWORD_FILE")
        env["LIFEBOAT_PASSWORD"] = "wrong"
        for args in [["backup", source], ["snapshots"], ["check"], ["restore", "latest", "--target", scratch.path + "/r"]] {
            let out = try cli.run(args, environment: env)
            #expect(out.status == 12, "\(args): \(out.status) \(out.stderr)")
            #expect(out.stderr.contains("passphrase does not open"))
        }
        #expect(TestRepository.allObjects(at: cli.repository) == before)
    }

    @Test("a missing repository exits 10; a usage error exits 64")
    func exitStatuses() throws {
        let scratch = ScratchDirectory()
        let cli = try LifeboatCLI(scratch: scratch)
        let missing = try cli.run(["snapshots"])
        #expect(missing.status == 10, "\(missing.stderr)")
        #expect(missing.stderr.contains("init"))
        let usage = try cli.run(["backup"])
        #expect(usage.status == 64)
        let unknown = try cli.run(["restore", "latest"])
        #expect(unknown.status == 64)
    }

    func writeLock(_ cli: LifeboatCLI, host: String, pid: Int32, exclusive: Bool, expires: Date) throws -> String {
        let lock = RepositoryLock(host: host, pid: pid, username: "someone", exclusive: exclusive, created: Date(), expires: expires)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { d, e in var c = e.singleValueContainer(); try c.encode(ISO8601.format(d)) }
        let path = cli.repository + "/locks/" + Digest256.random().hex
        try FileTree.mkdir(cli.repository + "/locks")
        try encoder.encode(lock).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("an exclusive lock from another host blocks a backup (exit 11) until it expires, then it is cleared")
    func foreignLock() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/f", [1])
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let live = try writeLock(cli, host: "other-host.example", pid: 1, exclusive: true, expires: Date() + 600)
        let blocked = try cli.run(["backup", source])
        #expect(blocked.status == 11, "\(blocked.stderr)")
        #expect(blocked.stderr.contains("other-host.example"))
        try FileManager.default.removeItem(atPath: live)
        let expired = try writeLock(cli, host: "other-host.example", pid: 1, exclusive: true, expires: Date() - 1)
        let ok = try cli.run(["backup", source])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(!FileManager.default.fileExists(atPath: expired))
    }

    /// The objects of `kind` in a repository folder, without writers' temporary files.
    static func objects(_ repository: String, _ kind: String) throws -> [String] {
        let folder = repository + "/" + kind
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        var out: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isDirectory), isDirectory.boolValue {
                out += try FileManager.default.contentsOfDirectory(atPath: folder + "/" + name).filter { !$0.hasPrefix(".") }
            } else {
                out.append(name)
            }
        }
        return out
    }

    /// Where a backup is killed: each point is an event of the backup's own (what it has
    /// written to the repository), not a delay, so every kill lands where it is meant to.
    enum KillPoint: CustomStringConvertible {
        case atStart, afterLock, afterPack, afterIndexSegment
        var description: String {
            switch self {
            case .atStart: "at its start"
            case .afterLock: "once it holds its lock"
            case .afterPack: "once it uploaded a pack (its index segment may be missing)"
            case .afterIndexSegment: "once it indexed a pack"
            }
        }
    }

    @Test("SIGKILL at any instant of a backup leaves a repository that checks clean; the next backup reuses what was uploaded", .timeLimit(.minutes(20)))
    func killedBackups() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 51)
        var total = 0
        for i in 0..<6 {
            let size = (7 << 20) + i * 100_000
            try FileTree.write(source + "/big\(i).bin", rng.bytes(size))
            total += size
        }
        for d in 0..<10 { try FileTree.mkdir(source + "/small/\(d)") }
        for i in 0..<300 { try FileTree.write(source + "/small/\(i % 10)/f\(i)", rng.bytes(2000)) }
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        var killed = 0
        for point in [KillPoint.atStart, .afterLock, .afterPack, .afterIndexSegment, .afterIndexSegment] {
            let packs = try Self.objects(cli.repository, "data").count
            let segments = try Self.objects(cli.repository, "index").count
            let process = Process()
            process.executableURL = URL(fileURLWithPath: LifeboatCLI.executable)
            process.arguments = ["backup", source]
            process.environment = cli.environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let wait = try EventWait()
            try wait.watch(tree: cli.repository)
            try process.run()
            wait.wake(onEndOf: process)
            try wait.until("the backup to get \(point)") {
                guard process.isRunning else { return true }  // it finished first: nothing left to kill
                switch point {
                case .atStart: return true
                case .afterLock: return try !Self.objects(cli.repository, "locks").isEmpty
                case .afterPack: return try Self.objects(cli.repository, "data").count > packs
                case .afterIndexSegment: return try Self.objects(cli.repository, "index").count > segments
                }
            }
            if process.isRunning { killed += 1 }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let check = try cli.run(["check", "--read-data"])
            #expect(check.status == 0, "after a kill \(point): \(check.stdout) \(check.stderr)")
        }
        #expect(killed >= 4, "only \(killed) of the backups were still running when their kill came")
        let packsBefore = try Self.objects(cli.repository, "data").count
        let final = try #require(try LifeboatCLI.json(try cli.run(["backup", source, "--json"])) as? [String: Any])
        let added = try #require(final["bytesAdded"] as? Int)
        #expect(packsBefore > 0, "no kill came after a pack was uploaded: the test proves too little")
        #expect(added < total - (8 << 20), "the next backup added \(added) of \(total) bytes: uploaded packs were not reused")
        // A kill in the middle of writing a lock may leave its temporary file: not a lock.
        let locks = try Self.objects(cli.repository, "locks")
        #expect(locks.isEmpty, "locks of killed processes are cleared: \(locks)")
        let check = try cli.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout)")
        let restore = try cli.run(["restore", "latest", "--target", scratch.path + "/r", "--verify"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(DirectoryComparison.differences(source, scratch.path + "/r" + source, compareDirectoryTimes: false) == [])
    }

    @Test("SIGINT stops a backup with exit 130, releases its lock and leaves a repository that checks clean", .timeLimit(.minutes(10)))
    func interrupted() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 71)
        let files = (0..<8).map { source + "/f\($0).bin" }
        for file in files { try FileTree.write(file, rng.bytes(1 << 20)) }
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        // The backup blocks in open(2) on the first file it reads until the leases go: the
        // signal is sure to come in the middle of the backup.
        let leases = try FileLeases(files)
        let stderr = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LifeboatCLI.executable)
        // One file at a time: a reader blocked in open(2) holds one of the runtime's threads
        // (as many as cores), and the signal must find one free.
        process.arguments = ["backup", source, "--file-workers", "1"]
        process.environment = cli.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        // The lease's break is signalled to this process (SIGWINCH, FileLeases): look then.
        let wait = try EventWait()
        wait.wake(onSignal: SIGWINCH)
        try process.run()
        wait.wake(onEndOf: process)
        let errors = LineReader(stderr.fileHandleForReading)
        try wait.until("the backup to open a file") { !leases.contended.isEmpty || !process.isRunning }
        try #require(process.isRunning, "the backup ended before it read a file: \(errors.readToEnd())")
        kill(process.processIdentifier, SIGINT)
        // The CLI says when it took the signal; only then may the file be read.
        let acknowledged = errors.waitFor("interrupted, stopping")
        leases.releaseAll()
        process.waitUntilExit()
        let output = errors.readToEnd()
        #expect(acknowledged, "\(output)")
        #expect(process.terminationStatus == 130, "\(output)")
        // What it leaves is said as it is: uploaded data kept for the next backup, and what removes it.
        #expect(output.contains("stays in the repository for the next backup to reuse") && output.contains("prune removes it"), "\(output)")
        #expect(!output.contains("nothing half-written"), "\(output)")
        let locks = try Self.objects(cli.repository, "locks")
        #expect(locks.isEmpty, "an interrupted backup releases its lock: \(locks)")
        #expect((try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [Any])?.isEmpty == true, "an interrupted backup writes no snapshot")
        let check = try cli.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
    }

    @Test("a damaged pack: check --read-data names it and exits 13, verify --no-key too; restore exits 3 and writes no wrong bytes")
    func damagedPack() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 61)
        try FileTree.write(source + "/damaged.bin", rng.bytes(600_000))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        let packs = TestRepository.allObjects(at: cli.repository).keys.filter { $0.hasPrefix("data/") }
        // The data pack is the large one; the tree pack is small.
        let pack = try #require(packs.max { TestRepository.allObjects(at: cli.repository)[$0]!.count < TestRepository.allObjects(at: cli.repository)[$1]!.count })
        var bytes = Array(FileManager.default.contents(atPath: cli.repository + "/" + pack)!)
        bytes[1000] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: cli.repository + "/" + pack))
        let packName = String(pack.split(separator: "/").last!)

        let check = try cli.run(["check", "--read-data"])
        #expect(check.status == 13)
        #expect(check.stdout.contains(packName))
        let verify = try cli.run(["verify", "--no-key"], environment: cli.environment.filter { $0.key != "LIFEBOAT_PASSWORD_FILE" })
        #expect(verify.status == 13)
        #expect(verify.stdout.contains(packName))

        try FileTree.write(source + "/intact.txt", Array("fine".utf8))
        let restore = try cli.run(["restore", "latest", "--target", scratch.path + "/r"])
        #expect(restore.status == 3, "\(restore.stderr)")
        #expect(restore.stderr.contains("damaged.bin"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/r" + source + "/damaged.bin"))
    }

    @Test("a damaged newest snapshot: restore latest and snapshots exit 13 naming it; --latest-intact restores the newest intact one with a warning")
    func damagedNewestSnapshot() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/state.txt", Array("old".utf8))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let older = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try FileTree.write(source + "/state.txt", Array("new".utf8))
        let newer = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let path = cli.repository + "/snapshots/" + newer
        var bytes = Array(try #require(FileManager.default.contents(atPath: path)))
        bytes[bytes.count - 3] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let refused = try cli.run(["restore", "latest", "--target", scratch.path + "/r"])
        #expect(refused.status == 13, "\(refused.stderr)")
        #expect(refused.stderr.contains(String(newer.prefix(8))) && refused.stderr.contains(String(older.prefix(8))), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/r"))
        let listed = try cli.run(["snapshots"])
        #expect(listed.status == 13 && listed.stderr.contains(String(newer.prefix(8))), "\(listed.stderr)")

        let intact = try cli.run(["restore", "latest", "--latest-intact", "--target", scratch.path + "/r"])
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(intact.stderr.contains("warning") && intact.stderr.contains(String(newer.prefix(8))), "\(intact.stderr)")
        #expect(FileManager.default.contents(atPath: scratch.path + "/r" + source + "/state.txt") == Data("old".utf8))
    }
}
