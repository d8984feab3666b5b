import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat replicate and airgap")
struct LocationsCLITests {
    @Test("keys that are no object name are warned about, escaped, and not copied: replicate and airgap export exit 3, check and airgap import refuse")
    func hostileKeys() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/f.txt", Array("hello".utf8))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        // A WAL folder that is a link out of the repository, and a key with a control character.
        let outside = try scratch.sub("outside")
        try FileTree.write(outside + "/000000010000000000000001", Array("secret".utf8))
        try FileTree.mkdir(cli.repository + "/wal")
        try FileTree.symlink(outside, at: cli.repository + "/wal/00000001")
        try FileTree.write(cli.repository + "/index/\u{1b}[2Jx", [1])

        let replica = scratch.path + "/replica"
        let replicated = try cli.run(["replicate", "--to", replica, "--json"])
        #expect(replicated.status == 3, "\(replicated.stderr)")
        #expect(replicated.stderr.contains("holds 'wal/00000001', which is not a wal object (a symbolic link)"), "\(replicated.stderr)")
        #expect(replicated.stderr.contains("'index/\\x1b[2Jx'") && !replicated.stderr.contains("\u{1b}"), "\(replicated.stderr)")
        let json = try #require(try LifeboatCLI.json(replicated) as? [String: Any])
        #expect((json["rejected"] as? [[String: Any]])?.count == 2)
        #expect(!FileManager.default.fileExists(atPath: replica + "/wal/00000001"))

        let bundle = try cli.run(["airgap", "export", "--to", scratch.path + "/bundle"])
        #expect(bundle.status == 3, "\(bundle.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/bundle/wal/00000001"))

        let check = try cli.run(["check"])
        #expect(check.status == 13, "\(check.stdout) \(check.stderr)")
        #expect((check.stdout + check.stderr).contains("'wal/00000001'"))

        // A bundle carrying such a key is not imported.
        try FileTree.symlink(outside + "/000000010000000000000001", at: scratch.path + "/bundle/index/" + String(repeating: "ab", count: 32))
        var imported = cli.environment
        imported["LIFEBOAT_REPOSITORY"] = scratch.path + "/imported"
        let refused = try cli.run(["airgap", "import", scratch.path + "/bundle"], environment: imported)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("nothing was imported"), "\(refused.stderr)")
    }

    @Test("replicate to a medium, export a bundle, verify it without and with the key, import it, restore from it")
    func offlineCopies() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 121)
        try FileTree.write(source + "/f.bin", rng.bytes(500_000))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let id = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let medium = scratch.path + "/usb"
        let replicated = try cli.run(["replicate", "--to", medium, "--medium", "offsite-1", "--json"])
        #expect(replicated.status == 0, "\(replicated.stderr)")
        #expect(FileManager.default.fileExists(atPath: medium + "/manifest.json"))
        var onMedium = cli.environment
        onMedium["LIFEBOAT_REPOSITORY"] = medium
        #expect(try cli.run(["restore", "latest", "--target", scratch.path + "/from-medium"], environment: onMedium).status == 0)

        let bundle = scratch.path + "/bundle"
        #expect(try cli.run(["airgap", "export", "--to", bundle, "--snapshot", String(id.prefix(8))]).status == 0)
        var noKey = ProcessInfo.processInfo.environment
        noKey.removeValue(forKey: "LIFEBOAT_PASSWORD_FILE")
        noKey.removeValue(forKey: "LIFEBOAT_PASSWORD")
        let offline = try cli.run(["airgap", "verify", bundle], environment: noKey)
        #expect(offline.status == 0, "\(offline.stdout) \(offline.stderr)")
        let deep = try cli.run(["airgap", "verify", bundle, "--read-data", "--password-file", cli.passwordFile], environment: noKey)
        #expect(deep.status == 0, "\(deep.stdout) \(deep.stderr)")

        var imported = cli.environment
        imported["LIFEBOAT_REPOSITORY"] = scratch.path + "/imported"
        #expect(try cli.run(["airgap", "import", bundle], environment: imported).status == 0)
        #expect(try cli.run(["check", "--read-data"], environment: imported).status == 0)

        let pack = try #require(TestRepository.allObjects(at: bundle).keys.first { $0.hasPrefix("data/") })
        var bytes = Array(FileManager.default.contents(atPath: bundle + "/" + pack)!)
        bytes[100] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: bundle + "/" + pack))
        #expect(try cli.run(["airgap", "verify", bundle], environment: noKey).status == 13)
        #expect(try cli.run(["airgap", "import", bundle], environment: imported).status == 1)
    }
}
