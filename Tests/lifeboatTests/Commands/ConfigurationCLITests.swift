import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat.yaml, locations and the 3-2-1-1-0 rule")
struct ConfigurationCLITests {
    func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("locations report each copy; the rule is met once a second medium and an off-site, immutable copy exist")
    func threeTwoOneOneZero() throws {
        let scratch = ScratchDirectory()
        let source = scratch.sub("data")
        try FileTree.write(source + "/f.txt", Array("payload".utf8))
        let config = scratch.path + "/lifeboat.yaml"
        try write("""
            locations:
              - name: primary
                role: PRIMARY
                path: \(scratch.path)/primary
                retention: { keepLast: 1 }
              - name: cloud
                role: SECONDARY
                path: \(scratch.path)/cloud
              - name: usb
                role: TERTIARY
                path: \(scratch.path)/usb
                medium: offsite-1
            """, to: config)
        let cli = try LifeboatCLI(scratch: scratch)
        var env = cli.environment
        env.removeValue(forKey: "LIFEBOAT_REPOSITORY")
        env["LIFEBOAT_CONFIG"] = config
        #expect(try cli.run(["config", "check"], environment: env).status == 0)
        #expect(try cli.run(["init", "--kdf-n", "1024"], environment: env).status == 0)
        #expect(try cli.run(["backup", source], environment: env).status == 0)

        let before = try cli.run(["locations", "--json"], environment: env)
        #expect(before.status == 3)
        let rule = try #require((try LifeboatCLI.json(before) as? [String: Any])?["rule"] as? [String: Any])
        #expect(rule["copies"] as? Int == 1)
        #expect(rule["met"] as? Bool == false)

        #expect(try cli.run(["replicate", "--to", "cloud"], environment: env).status == 0)
        #expect(try cli.run(["replicate", "--to", "usb"], environment: env).status == 0)
        let after = try cli.run(["locations", "--verify", "--json"], environment: env)
        #expect(after.status == 0, "\(after.stdout)")
        let json = try #require(try LifeboatCLI.json(after) as? [String: Any])
        let met = try #require(json["rule"] as? [String: Any])
        #expect(met["copies"] as? Int == 3)
        #expect(met["mediaTypes"] as? Int == 2)
        #expect(met["errors"] as? Int == 0)
        let usb = try #require((json["locations"] as? [[String: Any]])?.first { $0["name"] as? String == "usb" })
        #expect(usb["snapshots"] as? Int == 1)
        #expect(usb["newestSnapshot"] != nil)

        // Retention from the configuration, per location.
        try FileTree.write(source + "/g.txt", Array("more".utf8))
        #expect(try cli.run(["backup", source], environment: env).status == 0)
        #expect(try cli.run(["replicate", "--to", "usb"], environment: env).status == 0)
        let forget = try cli.run(["forget", "--location", "primary", "--json"], environment: env)
        #expect(forget.status == 0, "\(forget.stderr)")
        #expect((try LifeboatCLI.json(try cli.run(["snapshots", "--json"], environment: env)) as? [Any])?.count == 1)
        // A write-once medium refuses to forget, and keeps both snapshots.
        let refused = try cli.run(["forget", "--location", "usb", "--keep-last", "1"], environment: env)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("write-once"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/usb/snapshots").count == 2)
    }

    @Test("a bad configuration is refused with the file and what was expected", arguments: [
        ("locations:\n  - name: a\n    role: PRIMARY\n", "lacks 'path'"),
        ("locations:\n  - name: a\n    role: BACKUP\n    path: /x\n", "roles are"),
        ("locations:\n  - name: a\n    role: PRIMARY\n    path: relative\n", "must be absolute or s3://"),
        ("locations: [\n", "lifeboat.yaml"),
        ("locations:\n  - name: a\n    role: PRIMARY\n    path: /x\n    retention: { keepLast: -1 }\n", "cannot be negative"),
    ])
    func badConfiguration(_ text: String, _ expected: String) throws {
        let scratch = ScratchDirectory()
        let config = scratch.path + "/lifeboat.yaml"
        try write(text, to: config)
        let cli = try LifeboatCLI(scratch: scratch)
        let out = try cli.run(["config", "check", "--config", config])
        #expect(out.status == 1)
        #expect(out.stderr.contains(expected), "\(out.stderr)")
        #expect(out.stderr.contains(config))
    }
}
