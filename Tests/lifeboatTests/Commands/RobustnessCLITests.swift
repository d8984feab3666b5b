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

    @Test("SIGKILL at any instant of a backup leaves a repository that checks clean; the next backup reuses what was uploaded")
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
        for delay in [0.01, 0.08, 0.25, 0.6, 1.0, 1.6, 2.4] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: LifeboatCLI.executable)
            process.arguments = ["backup", source]
            process.environment = cli.environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(useconds_t(delay * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let check = try cli.run(["check", "--read-data"])
            #expect(check.status == 0, "after a kill at \(delay) s: \(check.stdout) \(check.stderr)")
        }
        let packsBefore = TestRepository.allObjects(at: cli.repository).filter { $0.key.hasPrefix("data/") }.count
        let final = try #require(try LifeboatCLI.json(try cli.run(["backup", source, "--json"])) as? [String: Any])
        let added = try #require(final["bytesAdded"] as? Int)
        #expect(packsBefore > 0, "no kill came after a pack was uploaded: the test proves too little")
        #expect(added < total - (8 << 20), "the next backup added \(added) of \(total) bytes: uploaded packs were not reused")
        // A kill in the middle of writing a lock may leave its temporary file: not a lock.
        let locks = ((try? FileManager.default.contentsOfDirectory(atPath: cli.repository + "/locks")) ?? []).filter { !$0.hasPrefix(".tmp-") }
        #expect(locks.isEmpty, "locks of killed processes are cleared: \(locks)")
        let check = try cli.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout)")
        let restore = try cli.run(["restore", "latest", "--target", scratch.path + "/r", "--verify"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(DirectoryComparison.differences(source, scratch.path + "/r" + source, compareDirectoryTimes: false) == [])
    }

    @Test("SIGINT stops a backup with exit 130, releases its lock and leaves a repository that checks clean")
    func interrupted() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 71)
        for i in 0..<40 { try FileTree.write(source + "/f\(i).bin", rng.bytes(1 << 20)) }
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LifeboatCLI.executable)
        process.arguments = ["backup", source]
        process.environment = cli.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(300_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let locks = (try? FileManager.default.contentsOfDirectory(atPath: cli.repository + "/locks")) ?? []
        #expect(locks.isEmpty, "an interrupted backup releases its lock: \(locks)")
        #expect(try cli.run(["check", "--read-data"]).status == 0)
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
}
