import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat with an s3:// repository", .enabled(if: S3TestServer.isAvailable, "scripts/test starts moto_server"))
struct S3CLITests {
    @Test("init, backup, check, restore and verify --no-key on s3://, every request's signature checked")
    func s3Repository() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 141)
        try FileTree.write(source + "/f.bin", rng.bytes(700_000))
        let proxy = try S3TestServer.Proxy(["--verify-signatures"])
        var cli = try LifeboatCLI(scratch: scratch)
        cli.extraEnvironment = [
            "LIFEBOAT_REPOSITORY": "s3://cli-\(UUID().uuidString.prefix(8).lowercased())/team/repo", "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_REGION": "us-east-1",
        ]
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        let check = try cli.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let restore = try cli.run(["restore", "latest", "--target", scratch.path + "/r", "--verify"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(FileManager.default.contents(atPath: scratch.path + "/r" + source + "/f.bin") == FileManager.default.contents(atPath: source + "/f.bin"))
        #expect(try cli.run(["verify", "--no-key"]).status == 0)

        var noCredentials = cli.environment
        noCredentials.removeValue(forKey: "AWS_SECRET_ACCESS_KEY")
        let refused = try cli.run(["snapshots"], environment: noCredentials)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("AWS_SECRET_ACCESS_KEY"))
    }

    @Test("an S3 location with objectLock in lifeboat.yaml gets immutable copies and counts as the immutable copy of 3-2-1-1-0")
    func objectLockLocation() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/f.txt", Array("payload".utf8))
        let bucket = "lock-\(UUID().uuidString.prefix(8).lowercased())"
        let config = scratch.path + "/lifeboat.yaml"
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
              - { name: nas, role: SECONDARY, path: \(scratch.path)/nas, offsite: true }
              - { name: cloud, role: SECONDARY, path: "s3://\(bucket)/app", objectLock: { mode: COMPLIANCE, days: 1 } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let cli = try LifeboatCLI(scratch: scratch)
        var env = cli.environment(config: config)
        env.merge(["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL": S3TestServer.endpoint!, "AWS_REGION": "us-east-1"]) { _, n in n }
        #expect(try cli.run(["init", "--kdf-n", "1024"], environment: env).status == 0)
        #expect(try cli.run(["backup", source], environment: env).status == 0)
        #expect(try cli.run(["replicate", "--to", "nas"], environment: env).status == 0)
        let copy = try cli.run(["replicate", "--to", "cloud"], environment: env)
        #expect(copy.status == 0, "\(copy.stderr)")
        let out = try cli.run(["locations", "--verify", "--json"], environment: env)
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        let rule = try #require((try LifeboatCLI.json(out) as? [String: Any])?["rule"] as? [String: Any])
        #expect(rule["copies"] as? Int == 3 && rule["mediaTypes"] as? Int == 2 && rule["offlineOrImmutable"] as? Int == 1, "\(rule)")

        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary, objectLock: { mode: COMPLIANCE, days: 1 } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try cli.run(["config", "check"], environment: env)
        #expect(refused.status == 1 && refused.stderr.contains("objectLock is for s3:// locations"), "\(refused.stderr)")
        try """
            locations:
              - { name: cloud, role: SECONDARY, path: "s3://\(bucket)/app", objectLock: { mode: FOREVER, days: 1 } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try cli.run(["config", "check"], environment: env).stderr.contains("not GOVERNANCE or COMPLIANCE"))
    }

    @Test("limits: an S3 location's limits and --limit-upload/--limit-download pace its transfers; a limit below 1 KiB/s or on a local location is refused")
    func transferLimits() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 142)
        try FileTree.write(source + "/f.bin", rng.bytes(300_000))
        let bucket = "limits-\(UUID().uuidString.prefix(8).lowercased())"
        let config = scratch.path + "/lifeboat.yaml"
        func configure(_ cloud: String) throws {
            try """
                locations:
                  - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
                  - { name: cloud, role: SECONDARY, path: "s3://\(bucket)/app"\(cloud) }
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }
        try configure(", limits: { upload: 1048576, download: 1048576 }")
        let cli = try LifeboatCLI(scratch: scratch)
        var env = cli.environment(config: config)
        env.merge(["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL": S3TestServer.endpoint!, "AWS_REGION": "us-east-1"]) { _, n in n }
        #expect(try cli.run(["init", "--kdf-n", "1024"], environment: env).status == 0)
        #expect(try cli.run(["backup", source], environment: env).status == 0)
        let copy = try cli.run(["replicate", "--to", "cloud", "--limit-upload", "1048576"], environment: env)
        #expect(copy.status == 0, "\(copy.stderr)")
        let restore = try cli.run(["restore", "latest", "-r", "s3://\(bucket)/app", "--target", scratch.path + "/r", "--limit-download", "1048576"], environment: env)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(FileManager.default.contents(atPath: scratch.path + "/r" + source + "/f.bin") == FileManager.default.contents(atPath: source + "/f.bin"))

        let zero = try cli.run(["snapshots", "--limit-upload", "0"], environment: env)
        #expect(zero.status == 64 && zero.stderr.contains("--limit-upload is in KiB/s and must be at least 1"), "\(zero.stderr)")
        try configure(", limits: { download: 0 }")
        let badDownload = try cli.run(["config", "check"], environment: env)
        #expect(badDownload.status == 1 && badDownload.stderr.contains("limits download is in KiB/s and must be at least 1"), "\(badDownload.stderr)")
        try configure(", limits: { uplaod: 10 }")
        let typo = try cli.run(["config", "check"], environment: env)
        #expect(typo.status == 1 && typo.stderr.contains("upload"), "a misspelt key is named with its correction: \(typo.stderr)")
        try """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary, limits: { upload: 10 } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let local = try cli.run(["config", "check"], environment: env)
        #expect(local.status == 1 && local.stderr.contains("limits are for s3:// locations"), "\(local.stderr)")
    }
}
