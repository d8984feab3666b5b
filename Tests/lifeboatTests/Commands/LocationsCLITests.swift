import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat replicate and airgap")
struct LocationsCLITests {
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
