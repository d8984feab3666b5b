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
        let source = try scratch.sub("data")
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
        let env = cli.environment(config: config)
        #expect(try cli.run(["config", "check", "--no-probe"], environment: env).status == 0)
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
        #expect(usb["lastVerified"] != nil && usb["lastVerificationErrors"] as? Int == 0)

        // The verification is recorded: without --verify the verdict stands on it.
        let later = try cli.run(["locations", "--json"], environment: env)
        #expect(later.status == 0, "\(later.stdout)")
        let recorded = try #require(try LifeboatCLI.json(later) as? [String: Any])
        #expect((recorded["rule"] as? [String: Any])?["errors"] as? Int == 0)
        let cloud = try #require((recorded["locations"] as? [[String: Any]])?.first { $0["name"] as? String == "cloud" })
        #expect(cloud["lastVerified"] != nil && cloud["verificationErrors"] == nil)
        // Damage found by a later verification is recorded too, and breaks the rule until fixed.
        let pack = try #require(FileManager.default.enumerator(atPath: scratch.path + "/cloud/data")?.allObjects.compactMap { $0 as? String }.first { $0.count > 10 })
        let packPath = scratch.path + "/cloud/data/" + pack
        var bytes = try #require(FileManager.default.contents(atPath: packPath))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: packPath))
        #expect(try cli.run(["locations", "--verify"], environment: env).status == 3)
        let damaged = try #require(try LifeboatCLI.json(try cli.run(["locations", "--json"], environment: env)) as? [String: Any])
        #expect(((damaged["rule"] as? [String: Any])?["errors"] as? Int ?? 0) > 0)
        #expect(((damaged["rule"] as? [String: Any])?["met"] as? Bool) == false)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: packPath))
        #expect(try cli.run(["locations", "--verify"], environment: env).status == 0)

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

    @Test("sources, schedules and the catalog are read and checked; config check shows each schedule's next run")
    func sourcesAndSchedules() throws {
        let scratch = ScratchDirectory()
        let config = scratch.path + "/lifeboat.yaml"
        try write("""
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app-db, kind: sqlite, path: /srv/app/app.db }
              - { name: main, kind: postgres, url: "postgresql://postgres@127.0.0.1/postgres", passwordEnv: PGPASSWORD, amcheckIndexes: [a_pkey] }
              - { name: app-config, kind: files, paths: [/etc/app], exclude: ["*.tmp"] }
            schedules:
              - { source: main, type: FULL, cron: "0 2 * * 0" }
              - { source: main, type: INCREMENTAL, cron: "0 2 * * 1-6" }
              - { source: main, type: TRANSACTION_LOG, cron: "0 */4 * * *" }
              - { source: app-config, type: CONFIGURATION, cron: "@hourly", scheduleType: ON_CHANGE }
            catalog: { sqlite: /var/lib/lifeboat/catalog.sqlite }
            """, to: config)
        let cli = try LifeboatCLI(scratch: scratch)
        let out = try cli.run(["config", "check", "--no-probe", "--config", config])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("sources: app-db (sqlite), main (postgres), app-config (files)"))
        #expect(out.stdout.contains("schedule: main TRANSACTION_LOG '0 */4 * * *', next "))
        #expect(out.stdout.contains("catalog: sqlite /var/lib/lifeboat/catalog.sqlite"))
    }

    @Test("a bad configuration is refused with the file and what was expected", arguments: [
        ("locations:\n  - name: a\n    role: PRIMARY\n", "lifeboat.yaml:2:5: the location locations[0] has no `path`"),
        ("locations:\n  - name: a\n    role: PRIMARY\n    path: /x\n    retenion: { keepLast: 3 }\n", "lifeboat.yaml:5:5: `retenion` is not a setting of a location: did you mean `retention`?"),
        ("sorces:\n  - { name: a, kind: files, paths: [/a] }\n", "lifeboat.yaml:1:1: `sorces` is not a setting of the configuration: did you mean `sources`?"),
        ("locations:\n  - { name: a, role: PRIMARY, path: /x, retention: { keepdaily: 7 } }\n", "`keepdaily` is not a setting of retention: did you mean `keepDaily`?"),
        ("locations:\n  - { name: a, role: PRIMRY, path: /x }\n", "lifeboat.yaml:2:22: role 'PRIMRY' is unknown (roles are PRIMARY, SECONDARY, TERTIARY, AIR_GAPPED): did you mean PRIMARY?"),
        ("server:\n  listn: 127.0.0.1:9000\n", "`listn` is not a setting of server: did you mean `listen`?"),
        ("alerts:\n  webhooks:\n    - { name: ops, url: \"http://127.0.0.1:1/x\", knd: slack }\n", "`knd` is not a setting of an alert webhook: did you mean `kind`?"),
        ("locations:\n  - name: a\n    role: PRIMARY\n    path: /x\n    retention: { keepDaily: seven }\n", "lifeboat.yaml:5:29: `locations[0].retention.keepDaily` should be a whole number, not 'seven'"),
        ("sources:\n  - { name: a, kind: files, paths: /etc }\n", "`sources[0].paths` should be a list"),
        ("locations:\n  - { name: a, role: PRIMARY, path: /x\n", "lifeboat.yaml:3:1: not valid YAML"),
        ("passphrase: { file: /p }\npassphrase: { env: P }\n", "given twice"),
        ("locations:\n  - name: a\n    role: BACKUP\n    path: /x\n", "roles are"),
        ("locations:\n  - name: a\n    role: PRIMARY\n    path: relative\n", "must be absolute or s3://"),
        ("locations: [\n", "lifeboat.yaml"),
        ("locations:\n  - name: a\n    role: PRIMARY\n    path: /x\n    retention: { keepLast: -1 }\n", "cannot be negative"),
        ("sources:\n  - { name: a, kind: mysql, path: /x }\n", "kinds are files, sqlite, postgres"),
        ("sources:\n  - { name: a, kind: postgres, url: 'postgresql://u:secret@h/db' }\n", "secrets never go in lifeboat.yaml"),
        ("sources:\n  - { name: a, kind: files }\n", "needs paths"),
        ("sources:\n  - { name: a, kind: sqlite, path: /a.db }\nschedules:\n  - { source: b, type: FULL, cron: '@daily' }\n", "not among the sources"),
        ("sources:\n  - { name: a, kind: sqlite, path: /a.db }\nschedules:\n  - { source: a, type: FULL, cron: '0 2 * *' }\n", "lifeboat.yaml:4: cron"),
        ("sources:\n  - { name: a, kind: sqlite, path: /a.db }\nschedules:\n  - { source: a, type: FULL, cron: '0 25 * * *' }\n", "hour '25' is outside 0-23"),
        ("sources:\n  - { name: a, kind: sqlite, path: /a.db }\nschedules:\n  - { source: a, type: TRANSACTION_LOG, cron: '@hourly' }\n", "TRANSACTION_LOG is for postgres"),
        ("catalog: { sqlite: relative.db }\n", "must be absolute"),
        ("catalog: { sqlite: /a.db, postgres: 'postgresql://h/db' }\n", "exactly one of"),
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
        // Plain language: none of the decoder's own words.
        for jargon in ["Cannot initialize", "Expected to decode", "CodingKeys", "Index ", "typeMismatch", "keyNotFound"] {
            #expect(!out.stderr.contains(jargon), "\(out.stderr)")
        }
    }

    @Test("config check probes what a run needs: source paths, the passphrase file, each location, the catalog; --json for machines")
    func probes() throws {
        let scratch = ScratchDirectory()
        let data = try scratch.sub("data")
        let config = scratch.path + "/lifeboat.yaml"
        let cli = try LifeboatCLI(scratch: scratch)
        func configure(paths: String, passphrase: String) throws {
            try write("""
                passphrase: { file: \(passphrase) }
                locations:
                  - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
                  - { name: usb, role: TERTIARY, path: \(scratch.path)/media/usb-1, medium: usb-1 }
                  - { name: nas, role: SECONDARY, path: \(scratch.path)/nas }
                sources:
                  - { name: app, kind: files, paths: [\(paths)] }
                """, to: config)
        }
        var env = cli.environment(config: config)
        env.removeValue(forKey: "LIFEBOAT_PASSWORD_FILE")
        try configure(paths: data + "/missing", passphrase: scratch.path + "/no-passphrase")
        let bad = try cli.run(["config", "check", "--json"], environment: env)
        #expect(bad.status == 1, "\(bad.stdout) \(bad.stderr)")
        let report = try #require(try LifeboatCLI.json(bad) as? [String: Any])
        let probes = try #require(report["probes"] as? [[String: Any]])
        func finding(_ subject: String) -> [String: Any]? { probes.first { $0["subject"] as? String == subject } }
        #expect(finding("source app")?["status"] as? String == "ERROR")
        #expect((finding("source app")?["detail"] as? String)?.contains("\(data)/missing does not exist") == true, "\(probes)")
        #expect(finding("passphrase")?["status"] as? String == "ERROR")
        #expect((finding("passphrase")?["detail"] as? String)?.contains("no-passphrase does not exist") == true, "\(probes)")
        #expect(finding("location primary")?["status"] as? String == "ERROR", "no repository there yet: \(probes)")
        #expect(finding("location usb")?["status"] as? String == "WARNING", "a medium that is not mounted: \(probes)")
        #expect(finding("catalog")?["status"] as? String == "OK")
        #expect(finding("location nas")?["status"] as? String == "OK", "a copy's folder the first run makes: \(probes)")
        #expect((finding("location nas")?["detail"] as? String)?.contains("the first `run` (or `replicate --to nas`) makes it") == true, "\(probes)")
        #expect((finding("location primary")?["detail"] as? String)?.contains("`lifeboat init` makes the repository there") == true, "\(probes)")
        #expect(report["errors"] as? Int == 3 && report["warnings"] as? Int == 1, "\(report)")
        #expect(report["valid"] as? Bool == true)
        #expect((report["sources"] as? [[String: String]]) == [["source": "app", "sourceKind": "files"]], "JSON's one vocabulary: \(report)")

        try configure(paths: data, passphrase: cli.passwordFile)
        #expect(try cli.run(["init", "--kdf-n", "1024"], environment: env).status == 0)
        let text = try cli.run(["config", "check"], environment: env)
        #expect(text.status == 3, "only the medium is missing: \(text.stdout) \(text.stderr)")
        #expect(text.stdout.contains("OK      location primary:") && text.stdout.contains("WARNING location usb: the medium usb-1 is not mounted"), "\(text.stdout)")
        _ = try scratch.sub("media")
        let ready = try cli.run(["config", "check"], environment: env)
        #expect(ready.status == 3, "the medium holds no repository yet: \(ready.stdout)")
        #expect(try cli.run(["run", "app"], environment: env).status == 0)
        let done = try cli.run(["config", "check"], environment: env)
        #expect(done.status == 0 && done.stdout.contains("ready to run"), "\(done.stdout) \(done.stderr)")
    }

    @Test("key rotate rotates every location of lifeboat.yaml; a write-once medium is named and the status is 3")
    func rotateEverywhere() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/f.txt", Array("payload".utf8))
        let config = scratch.path + "/lifeboat.yaml"
        try write("""
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
              - { name: cloud, role: SECONDARY, path: \(scratch.path)/cloud }
              - { name: usb, role: TERTIARY, path: \(scratch.path)/usb, medium: offsite-1 }
              - { name: vault, role: AIR_GAPPED, path: \(scratch.path)/vault }
            """, to: config)
        let cli = try LifeboatCLI(scratch: scratch)
        let env = cli.environment(config: config)
        #expect(try cli.run(["init", "--kdf-n", "1024"], environment: env).status == 0)
        #expect(try cli.run(["backup", source], environment: env).status == 0)
        #expect(try cli.run(["replicate", "--to", "cloud"], environment: env).status == 0)
        #expect(try cli.run(["replicate", "--to", "usb"], environment: env).status == 0)
        let keysBefore = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/cloud/keys")

        let out = try cli.run(["key", "rotate", "--kdf-n", "1024", "--json"], environment: env)
        #expect(out.status == 3, "\(out.stdout) \(out.stderr)")
        #expect(out.stderr.contains("old master key still opens"))
        let json = try #require(try LifeboatCLI.json(out) as? [String: Any])
        let locations = try #require(json["locations"] as? [[String: Any]])
        #expect(locations.count == 2, "AIR_GAPPED bundles are not rotated in place: \(locations)")
        let cloud = try #require(locations.first { ($0["location"] as? String)?.hasSuffix("/cloud") == true })
        #expect(cloud["error"] == nil && cloud["keyFilesRetired"] as? Int == 1)
        #expect(locations.first { ($0["location"] as? String)?.hasSuffix("/usb") == true }?["error"] is String)
        let keysAfter = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/cloud/keys")
        #expect(Set(keysAfter).isDisjoint(with: keysBefore))
        #expect(keysAfter == (try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/primary/keys")))
        let fromCloud = try cli.run(["check", "--read-data", "--repo", scratch.path + "/cloud"], environment: env)
        #expect(fromCloud.status == 0, "\(fromCloud.stderr)")
    }
}
