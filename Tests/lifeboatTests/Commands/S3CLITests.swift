import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat with an s3:// repository", .enabled(if: S3TestServer.isAvailable, "scripts/test starts moto_server"))
struct S3CLITests {
    @Test("init, backup, check, restore and verify --no-key on s3://, every request's signature checked")
    func s3Repository() throws {
        let scratch = ScratchDirectory()
        let source = scratch.sub("data")
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
}
