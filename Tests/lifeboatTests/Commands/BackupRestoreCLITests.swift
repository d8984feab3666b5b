import AsyncHTTPClient
import Foundation
import NIOCore
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat init, backup, snapshots, restore, ls, diff")
struct BackupRestoreCLITests {
    func makeSource(_ scratch: ScratchDirectory) throws -> String {
        let source = try scratch.sub("data")
        var rng = SeededBytes(seed: 41)
        try FileTree.write(source + "/x.bin", rng.bytes(300_000))
        try FileTree.mkdir(source + "/docs")
        try FileTree.write(source + "/docs/readme.txt", Array("read me\n".utf8))
        try FileTree.write(source + "/docs/skip.tmp", [1])
        return source
    }

    @Test("backup --json and snapshots --json carry the documented fields")
    func jsonOutput() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let first = try cli.run(["backup", source, "--tag", "nightly", "--exclude", "*.tmp", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let b = try #require(try LifeboatCLI.json(first) as? [String: Any])
        for key in ["snapshotId", "type", "parent", "filesNew", "filesChanged", "filesUnmodified", "bytesRead", "bytesAdded", "durationSeconds"] {
            #expect(b[key] != nil, "backup --json lacks \(key)")
        }
        #expect(b["type"] as? String == "FULL")
        #expect(b["parent"] is NSNull)
        #expect(b["filesNew"] as? Int == 2)

        let second = try #require(try LifeboatCLI.json(try cli.run(["backup", source, "--exclude", "*.tmp", "--json"])) as? [String: Any])
        #expect(second["type"] as? String == "INCREMENTAL")
        #expect(second["parent"] as? String == b["snapshotId"] as? String)
        #expect(second["bytesRead"] as? Int == 0)

        let full = try #require(try LifeboatCLI.json(try cli.run(["backup", source, "--type", "full", "--exclude", "*.tmp", "--json"])) as? [String: Any])
        #expect(full["type"] as? String == "FULL")
        #expect(full["bytesRead"] as? Int == 300_008)

        let list = try #require(try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [[String: Any]])
        #expect(list.count == 3)
        let s = list[0]
        for key in ["id", "shortId", "time", "type", "paths", "tags", "parent", "host"] {
            #expect(s[key] != nil, "snapshots --json lacks \(key)")
        }
        #expect(s["id"] as? String == b["snapshotId"] as? String)
        #expect((s["id"] as? String)?.count == 64)
        #expect(s["tags"] as? [String] == ["nightly"])
        #expect(s["paths"] as? [String] == [source])
        #expect(ISO8601.parse(s["time"] as? String ?? "") != nil)
    }

    @Test("restore by short id recreates the absolute structure; ls and diff list the entries")
    func restoreLsDiff() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let id1 = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id1.count == 64)
        try FileTree.write(source + "/docs/new.txt", [9])
        let id2 = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let target = scratch.path + "/restore"
        let restored = try cli.run(["restore", String(id1.prefix(8)), "--target", target, "--verify"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(FileManager.default.contents(atPath: target + source + "/x.bin") == FileManager.default.contents(atPath: source + "/x.bin"))
        #expect(!FileManager.default.fileExists(atPath: target + source + "/docs/new.txt"))

        let ls = try cli.run(["ls", "latest"])
        #expect(ls.stdout.contains(source + "/docs/new.txt"))
        let diff = try cli.run(["diff", id1, id2])
        #expect(diff.stdout.contains("+    " + source + "/docs/new.txt"))

        let partial = try cli.run(["restore", "latest", "--target", scratch.path + "/only", "--include", "*.txt"])
        #expect(partial.status == 0)
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/only" + source + "/docs/new.txt"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/only" + source + "/x.bin"))
    }

    @Test("the repository and passphrase come from flags or from the environment")
    func environment() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        var env = ProcessInfo.processInfo.environment
        for key in ["LIFEBOAT_REPOSITORY", "LIFEBOAT_PASSWORD_FILE"] { env.removeValue(forKey: key) }
        let flags = try cli.run(["backup", source, "--repo", cli.repository, "--password-file", cli.passwordFile], environment: env)
        #expect(flags.status == 0, "\(flags.stderr)")
        env["LIFEBOAT_REPOSITORY"] = cli.repository
        env["LIFEBOAT_PASSWORD"] = "correct horse battery staple"
        let byEnv = try cli.run(["snapshots"], environment: env)
        #expect(byEnv.status == 0, "\(byEnv.stderr)")
        env.removeValue(forKey: "LIFEBOAT_PASSWORD")
        let none = try cli.run(["snapshots"], environment: env)
        #expect(none.status == 1)
        #expect(none.stderr.contains("no passphrase"))
    }

    @Test("progress goes to a terminal only: piped output is just the result")
    func quietWhenPiped() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let out = try cli.run(["backup", source])
        #expect(out.stderr.isEmpty)
        #expect(out.stdout.split(separator: "\n").count == 1)
    }

    @Test("quickstart runs the whole process on the sample application and leaves a BackupLog that `lifeboat log` reads")
    func quickstart() async throws {
        let scratch = ScratchDirectory("quickstart")
        let out = try Shell.run(LifeboatCLI.executable, ["quickstart", "--directory", scratch.path + "/qs"])
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        #expect(out.stdout.contains("OK: 3 runs recorded"))
        #expect(out.stdout.contains("restoration test of the INCREMENTAL from the medium: PASSED"))
        // A plan for the sample application and a drill of it, with RTO and RPO against the targets.
        let drill = try #require(out.stdout.split(separator: "\n").first { $0.hasPrefix("9. recovery plan 'orders'") }, "\(out.stdout)")
        #expect(drill.contains("drilled in a sandbox: SUCCEEDED; RTO") && drill.contains("against 15m (met), RPO") && drill.contains("against 1h (met)"), "\(drill)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/qs").allSatisfy { !$0.hasPrefix("lifeboat-drill-") })
        #expect(!out.stdout.contains("FAILED"))
        // The same record, read by the command an operator would use.
        var env = ProcessInfo.processInfo.environment
        env["LIFEBOAT_CONFIG"] = scratch.path + "/qs/lifeboat.yaml"
        let log = try Shell.run(LifeboatCLI.executable, ["log", "--json"], environment: env)
        #expect(log.status == 0, "\(log.stderr)")
        let rows = try #require(try LifeboatCLI.json(log) as? [[String: Any]])
        #expect(rows.map { $0["type"] as? String } == ["CONFIGURATION", "INCREMENTAL", "FULL"])
        #expect(rows.allSatisfy { $0["status"] as? String == "SUCCEEDED" })
        #expect((rows[1]["restoreTest"] as? [String: Any])?["result"] as? String == "PASSED")
        let copies = rows.flatMap { ($0["locations"] as? [[String: Any]]) ?? [] }
        #expect(copies.count == 6 && copies.allSatisfy { $0["status"] as? String == "VERIFIED" })
        #expect(try FileStatus.lstat(RawPath(scratch.path + "/qs/passphrase")).mode == 0o600)
        // In its folder, with no flag and no environment: lifeboat.yaml names the passphrase file.
        var bare = ProcessInfo.processInfo.environment
        for key in ["LIFEBOAT_CONFIG", "LIFEBOAT_REPOSITORY", "LIFEBOAT_PASSWORD", "LIFEBOAT_PASSWORD_FILE"] { bare.removeValue(forKey: key) }
        let snapshots = try Shell.run("/usr/bin/env", ["-C", scratch.path + "/qs", LifeboatCLI.executable, "snapshots", "--json"], environment: bare)
        #expect(snapshots.status == 0, "\(snapshots.stderr)")
        #expect((try LifeboatCLI.json(snapshots) as? [Any])?.count == 3)
        // Both locations were verified, and `locations` says so.
        let locations = try Shell.run("/usr/bin/env", ["-C", scratch.path + "/qs", LifeboatCLI.executable, "locations"], environment: bare)
        #expect(!locations.stdout.contains("never verified") && locations.stdout.contains("last verified"), "\(locations.stdout)")
        #expect(out.stdout.contains("Files kept in \(scratch.path)/qs"))
        // It ends by telling how to start the daemon on the sample; told so, the daemon runs.
        let told = try #require(out.stdout.split(separator: "\n").first { $0.hasPrefix("next: `lifeboat serve") })
        let command = try #require(told.split(separator: "`").dropFirst().first).split(separator: " ").map(String.init)
        let daemon = try await DaemonProcess.start(environment: ProcessInfo.processInfo.environment, arguments: Array(command.dropFirst(2)))
        #expect(await daemon.waitingFor("ready: the schedule runs"), "\(daemon.log.output)")
        #expect(try await daemon.get("/readyz").status == 200)
        daemon.signal(SIGTERM)
        let end = await daemon.exit()
        #expect(end.status == 0, "\(end.log)")
    }

    @Test("quickstart --serve ends in the daemon: it prints the console's address and a token that logs in to it; SIGTERM stops it cleanly", .timeLimit(.minutes(10)))
    func quickstartServe() async throws {
        let scratch = ScratchDirectory("quickstart-serve")
        let daemon = try await DaemonProcess.start(
            environment: ProcessInfo.processInfo.environment,
            command: ["quickstart", "--serve", "--listen", "127.0.0.1:0", "--directory", scratch.path + "/qs"])
        #expect(await daemon.waitingFor("The API is at"), "\(daemon.log.output)")
        let output = daemon.log.output
        #expect(output.contains("the web console is at http://127.0.0.1:\(daemon.port)/console"), "\(output)")
        let token = try #require(output.split(separator: "\n").first { $0.hasPrefix("lbt_") }.map(String.init), "\(output)")
        // The token logs in through the console's form: the login form's cookie and CSRF token, then the session.
        let base = "http://127.0.0.1:\(daemon.port)"
        let form = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/console/login"), timeout: .seconds(30))
        #expect(form.status == .ok)
        let loginCookie = try #require(form.headers["set-cookie"].first { $0.hasPrefix("lifeboat_login=") }?.split(separator: ";").first.map(String.init))
        let html = String(buffer: try await form.body.collect(upTo: 1 << 20))
        let csrf = try #require(html.range(of: #"name="csrf" value=""#).map { String(html[$0.upperBound...].prefix { $0 != "\"" }) })
        var login = HTTPClientRequest(url: base + "/console/login")
        login.method = .POST
        login.headers.add(name: "Cookie", value: loginCookie)
        login.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        login.body = .bytes(ByteBuffer(string: "token=\(token)&csrf=\(csrf)&next=/console"))
        // A client that shows the redirect rather than following it: its Set-Cookie is the session.
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let answer: HTTPClientResponse
        do {
            answer = try await client.execute(login, timeout: .seconds(30))
            try await client.shutdown()
        } catch {
            try await client.shutdown()
            throw error
        }
        #expect(answer.status == .seeOther)
        let session = try #require(answer.headers["set-cookie"].first { $0.hasPrefix("lifeboat_session=") }?.split(separator: ";").first.map(String.init))
        var dashboard = HTTPClientRequest(url: base + "/console")
        dashboard.headers.add(name: "Cookie", value: session)
        let page = try await HTTPClient.shared.execute(dashboard, timeout: .seconds(30))
        #expect(page.status == .ok)
        #expect(String(buffer: try await page.body.collect(upTo: 1 << 20)).contains("app-db"))
        daemon.signal(SIGTERM)
        let end = await daemon.exit()
        #expect(end.status == 0, "\(end.log)")
    }

    @Test("quickstart without --directory points to no command in the folder it removes")
    func quickstartScratchFolder() throws {
        let scratch = ScratchDirectory("quickstart-tmp")
        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = scratch.path + "/"
        let out = try Shell.run(LifeboatCLI.executable, ["quickstart"], environment: env)
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        let base = try #require(out.stdout.split(separator: "\n").first?.components(separatedBy: " in ").last)
        #expect(!FileManager.default.fileExists(atPath: base), "the scratch folder \(base) is removed")
        #expect(!out.stdout.contains("--config \(base)"), "\(out.stdout)")
        #expect(out.stdout.contains("is removed now") && out.stdout.contains("--keep"), "\(out.stdout)")
    }

    @Test("quickstart --json prints one document on stdout (runs, locations, restoration test) and its story on stderr")
    func quickstartJSON() throws {
        let scratch = ScratchDirectory("quickstart-json")
        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = scratch.path + "/"
        let out = try Shell.run(LifeboatCLI.executable, ["quickstart", "--json"], environment: env)
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        let doc = try #require(try LifeboatCLI.json(out) as? [String: Any])
        #expect(doc["ok"] as? Bool == true && doc["kept"] as? Bool == false)
        let runs = try #require(doc["runs"] as? [[String: Any]])
        #expect(runs.map { $0["source"] as? String ?? "?" } == ["app-db", "app-db", "app-config"])
        #expect(runs.allSatisfy { $0["status"] as? String == "SUCCEEDED" && ($0["snapshotId"] as? String)?.count == 64 }, "\(runs)")
        #expect((doc["locations"] as? [[String: Any]])?.map { ($0["errors"] as? [Any])?.count } == [0, 0])
        #expect((doc["restorationTest"] as? [String: Any])?["passed"] as? Bool == true)
        #expect(out.stderr.contains("3. FULL of app-db"), "the story goes to stderr: \(out.stderr)")
    }

    @Test("restore into a folder with files: never (the default) keeps an edited file and says so, if-changed replaces only what differs, always replaces")
    func overwritePolicy() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        try FileTree.symlink("docs/readme.txt", at: source + "/link")
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        let target = scratch.path + "/restored"
        #expect(try cli.run(["restore", "latest", "--target", target]).status == 0)
        let readme = target + source + "/docs/readme.txt"
        let x = target + source + "/x.bin"
        let original = try #require(FileManager.default.contents(atPath: x))
        // A local edit, after the first restore.
        try FileTree.write(readme, Array("edited here\n".utf8))

        let never = try cli.run(["restore", "latest", "--target", target, "--json"])
        #expect(never.status == 3, "\(never.stdout) \(never.stderr)")
        #expect(try String(contentsOfFile: readme, encoding: .utf8) == "edited here\n", "the edited file is kept")
        let report = try #require(try LifeboatCLI.json(never) as? [String: Any])
        #expect(report["keptFiles"] as? [String] == [readme], "\(report)")
        #expect(report["filesUnchanged"] as? Int == 2, "x.bin and skip.tmp hold the snapshot's content: \(report)")
        #expect(report["filesRestored"] as? Int == 0)
        #expect(never.stderr.contains("kept, differs from the snapshot: \(readme)"), "\(never.stderr)")
        let text = try cli.run(["restore", "latest", "--target", target])
        #expect(text.status == 3 && text.stdout.contains("2 files already there unchanged"), "\(text.stdout)")

        // if-changed: only the edited file is written again; the unchanged one keeps its inode.
        let inode = try FileStatus.lstat(RawPath(x)).inode
        let ifChanged = try cli.run(["restore", "latest", "--target", target, "--overwrite", "if-changed", "--json"])
        #expect(ifChanged.status == 0, "\(ifChanged.stderr)")
        let changedReport = try #require(try LifeboatCLI.json(ifChanged) as? [String: Any])
        #expect(changedReport["filesRestored"] as? Int == 1 && changedReport["filesUnchanged"] as? Int == 2, "\(changedReport)")
        #expect(try String(contentsOfFile: readme, encoding: .utf8) == "read me\n")
        #expect(try FileStatus.lstat(RawPath(x)).inode == inode)

        // always: every file is written again.
        try FileTree.write(readme, Array("edited again\n".utf8))
        let always = try cli.run(["restore", "latest", "--target", target, "--overwrite", "always", "--json"])
        #expect(always.status == 0, "\(always.stderr)")
        #expect((try LifeboatCLI.json(always) as? [String: Any])?["filesRestored"] as? Int == 3)
        #expect(try String(contentsOfFile: readme, encoding: .utf8) == "read me\n")
        #expect(FileManager.default.contents(atPath: x) == original)
        #expect(try cli.run(["restore", "latest", "--target", target, "--overwrite", "sometimes"]).status == 64)
    }

    /// Every entry below `root` with its type, size, mode, mtime and content: what a dry run must not change.
    private static func state(of root: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        for path in try fm.subpathsOfDirectory(atPath: root) {
            let a = try fm.attributesOfItem(atPath: root + "/" + path)
            let content = fm.contents(atPath: root + "/" + path).map { Array($0).description } ?? "-"
            let fields: [FileAttributeKey] = [.type, .size, .posixPermissions, .modificationDate]
            out[path] = fields.map { "\(a[$0] ?? "?")" }.joined(separator: " ") + " " + content
        }
        return out
    }

    @Test("restore --dry-run says what it would restore, keep or overwrite and leaves the target untouched; --exclude leaves out what it matches and all below")
    func dryRunAndExclude() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        try FileTree.write(source + "/docs/notes.log", Array("log\n".utf8))
        try FileTree.mkdir(source + "/cache")
        try FileTree.write(source + "/cache/blob", [7, 7, 7])
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)

        let target = scratch.path + "/restored"
        try FileManager.default.createDirectory(atPath: target + source + "/docs", withIntermediateDirectories: true)
        try FileTree.write(target + source + "/docs/readme.txt", Array("edited locally\n".utf8))
        try FileTree.write(target + source + "/x.bin", Array(try #require(FileManager.default.contents(atPath: source + "/x.bin"))))
        try FileTree.write(target + source + "/mine.txt", Array("not in the snapshot".utf8))
        let before = try Self.state(of: target)

        let dry = try cli.run(["restore", "latest", "--target", target, "--dry-run", "--exclude", "*.log", "--exclude", source + "/cache", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let json = try #require(try LifeboatCLI.json(dry) as? [String: Any])
        #expect(json["dryRun"] as? Bool == true)
        let entries = try #require(json["entries"] as? [[String: Any]])
        var actions: [String: String] = [:]
        for e in entries { actions[(e["path"] as? String ?? "?").replacingOccurrences(of: target + source, with: "")] = e["action"] as? String }
        #expect(actions == ["/x.bin": "unchanged", "/docs/readme.txt": "keep", "/docs/skip.tmp": "restore"], "\(actions)")
        #expect(json["bytesToWrite"] as? Int == 1)
        #expect(try Self.state(of: target) == before, "a dry run writes nothing")

        let ifChanged = try cli.run(["restore", "latest", "--target", target, "--dry-run", "--overwrite", "if-changed"])
        #expect(ifChanged.status == 0, "\(ifChanged.stderr)")
        #expect(ifChanged.stdout.contains("overwrite"), "\(ifChanged.stdout)")
        #expect(ifChanged.stdout.contains("would restore 3, overwrite 1, keep 0 as the target holds them, leave 1 unchanged"), "\(ifChanged.stdout)")
        #expect(try Self.state(of: target) == before, "a dry run writes nothing")

        let fresh = scratch.path + "/fresh"
        #expect(try cli.run(["restore", "latest", "--target", fresh, "--dry-run"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: fresh), "a dry run makes no target folder")

        let restored = try cli.run(["restore", "latest", "--target", fresh, "--exclude", "*.log", "--exclude", source + "/cache", "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(FileManager.default.fileExists(atPath: fresh + source + "/docs/readme.txt"))
        #expect(!FileManager.default.fileExists(atPath: fresh + source + "/docs/notes.log"), "excluded by name")
        #expect(!FileManager.default.fileExists(atPath: fresh + source + "/cache"), "excluded by path, with all below")
        let withInclude = try cli.run(["restore", "latest", "--target", scratch.path + "/docs-only", "--include", "/**/docs", "--include", "*.log", "--exclude", "*.log"])
        #expect(withInclude.status == 0, "\(withInclude.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/docs-only" + source + "/docs/notes.log"), "an exclude wins over an include")
    }

    @Test("a restore whose target is a file is refused before anything is written; errors name the path on disk")
    func restoreTargetRefusals() throws {
        let scratch = ScratchDirectory()
        let source = try makeSource(scratch)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        let file = scratch.path + "/a-file"
        try FileTree.write(file, Array("mine\n".utf8))
        let refused = try cli.run(["restore", "latest", "--target", file])
        #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stdout.isEmpty, "nothing is reported restored: \(refused.stdout)")
        #expect(refused.stderr.contains(file) && refused.stderr.contains("not a folder"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "mine\n")

        // A file where the snapshot has a folder: the message names where on disk.
        let target = scratch.path + "/restored"
        try FileManager.default.createDirectory(atPath: target + source, withIntermediateDirectories: true)
        try FileTree.write(target + source + "/docs", [1])
        let blocked = try cli.run(["restore", "latest", "--target", target])
        #expect(blocked.status == 3, "\(blocked.stderr)")
        #expect(blocked.stderr.contains("\(target)\(source)/docs: exists in the target and is not a folder"), "\(blocked.stderr)")
    }

    @Test("snapshots shows whole values in columns as wide as their content and filters by --source, --tag, --host, --path, --type; --source picks a source's latest for ls, diff and restore")
    func snapshotSelection() throws {
        let scratch = ScratchDirectory()
        let alpha = try scratch.sub("alpha")
        let beta = try scratch.sub("beta")
        try FileTree.write(alpha + "/a.txt", Array("one\n".utf8))
        try FileTree.write(beta + "/b.txt", Array("two\n".utf8))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let longTag = "a-tag-much-longer-than-any-column-was"
        #expect(try cli.run(["backup", alpha, "--tag", "source:alpha", "--tag", longTag]).status == 0)
        #expect(try cli.run(["backup", beta, "--tag", "source:beta"]).status == 0)
        try FileTree.write(alpha + "/a.txt", Array("one, edited\n".utf8))
        #expect(try cli.run(["backup", alpha, "--tag", "source:alpha"]).status == 0)
        let all = try #require(try LifeboatCLI.json(try cli.run(["snapshots", "--json"])) as? [[String: Any]])
        try #require(all.count == 3)
        let ids = all.compactMap { $0["id"] as? String }
        let host = try #require(all.first?["host"] as? String)

        let text = try cli.run(["snapshots"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("source:alpha,\(longTag)") }, "the tags whole: \(text.stdout)")
        #expect(lines.contains { $0.contains("INCREMENTAL") } && lines.contains { $0.contains(host) }, "\(text.stdout)")
        // Every row's columns start where the header's do.
        let header = try #require(lines.first)
        for column in ["Time", "Type", "Host", "Tags", "Source", "Paths"] {
            let offset = try #require(header.range(of: column)).lowerBound.utf16Offset(in: header)
            for row in lines.dropFirst().prefix(3) {
                let before = row.utf16.count > offset ? row[row.index(row.startIndex, offsetBy: offset - 1)] : "x"
                #expect(before == " ", "\(column) starts at \(offset) in every row: \(text.stdout)")
            }
        }

        func count(_ filters: [String]) throws -> Int? {
            (try LifeboatCLI.json(try cli.run(["snapshots", "--json"] + filters)) as? [Any])?.count
        }
        #expect(try count(["--source", "alpha"]) == 2)
        #expect(try count(["--source", "alpha", "--source", "beta"]) == 3)
        #expect(try count(["--tag", longTag]) == 1)
        #expect(try count(["--type", "incremental"]) == 1)
        #expect(try count(["--type", "full", "--source", "beta"]) == 1)
        #expect(try count(["--path", beta + "/"]) == 1)
        #expect(try count(["--host", host]) == 3)
        #expect(try count(["--host", "no-such-host"]) == 0)
        #expect(try cli.run(["snapshots", "--host", "no-such-host"]).stdout.contains("0 of 3 snapshots"))

        // latest of a source, for ls, restore and diff.
        let ls = try cli.run(["ls", "latest", "--source", "beta"])
        #expect(ls.status == 0 && ls.stdout.contains("b.txt") && !ls.stdout.contains("a.txt"), "\(ls.stdout) \(ls.stderr)")
        #expect(try cli.run(["ls", "latest"]).stdout.contains("a.txt"), "without --source, the newest of all")
        let target = scratch.path + "/restored"
        #expect(try cli.run(["restore", "latest", "--source", "beta", "--target", target]).status == 0)
        #expect(FileManager.default.fileExists(atPath: target + beta + "/b.txt") && !FileManager.default.fileExists(atPath: target + alpha))
        let diff = try cli.run(["diff", ids[0], "latest", "--source", "alpha"])
        #expect(diff.status == 0 && diff.stdout.contains("M    \(alpha)/a.txt"), "\(diff.stdout) \(diff.stderr)")
        let notOfSource = try cli.run(["ls", ids[1], "--source", "alpha"])
        #expect(notOfSource.status == 1 && notOfSource.stderr.contains("is not of source 'alpha'"), "\(notOfSource.stderr)")
        let none = try cli.run(["restore", "latest", "--source", "gamma", "--target", target])
        #expect(none.status == 1 && none.stderr.contains("latest of source 'gamma'"), "\(none.stderr)")
    }

    @Test("ls and diff print control characters in names escaped; --json carries the exact names")
    func controlCharactersInNames() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/plain", [1])
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let first = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let evil = "evil\n\u{1b}[31mred\\x"
        try FileTree.write(source + "/" + evil, [2])
        try FileTree.symlink("\u{1b}]0;title\u{07}", at: source + "/link")
        let second = try cli.run(["backup", source]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        for out in [try cli.run(["ls", "latest"]), try cli.run(["ls", "--long", "latest"]), try cli.run(["diff", first, second])] {
            #expect(out.status == 0, "\(out.stderr)")
            #expect(!out.stdout.contains("\u{1b}") && !out.stdout.contains("\u{07}"), "\(out.stdout)")
            #expect(out.stdout.contains(source + "/evil\\n\\x1b[31mred\\\\x"), "\(out.stdout)")
        }
        #expect(try cli.run(["ls", "--long", "latest"]).stdout.contains("-> \\x1b]0;title\\x07"))
        let json = try #require(try LifeboatCLI.json(try cli.run(["ls", "latest", "--json"])) as? [[String: Any]])
        #expect(json.contains { $0["path"] as? String == source + "/" + evil })
    }

    @Test("a file dated past 2262 backs up with a warning (exit 3); ls, restore, check and prune work on the snapshot")
    func timeBeyondTheFormat() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/future", Array("from the future".utf8))
        try FileTree.write(source + "/present", Array("from now".utf8))
        // 2262-04-11T23:47:16.854775808Z: the time that wrapped to Int64.min and trapped every later reader.
        try FileTree.setMtime(source + "/future", seconds: 9_223_372_036, nanoseconds: 854_775_808)
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        let backup = try cli.run(["backup", source])
        #expect(backup.status == 3, "\(backup.stderr)")
        #expect(backup.stderr.contains(source + "/future: its mtime"), "\(backup.stderr)")
        #expect(try cli.run(["backup", source]).status == 3)

        let ls = try cli.run(["ls", "--long", "latest"])
        #expect(ls.status == 0, "\(ls.stderr)")
        #expect(ls.stdout.contains("2262-04-11T23:47:16"), "\(ls.stdout)")
        let target = scratch.path + "/restore"
        let restore = try cli.run(["restore", "latest", "--target", target, "--verify"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(FileManager.default.contents(atPath: target + source + "/future") == Data("from the future".utf8))
        #expect(try cli.run(["check", "--read-data"]).status == 0)
        let prune = try cli.run(["forget", "--keep-last", "1", "--prune"])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(try cli.run(["check", "--read-data"]).status == 0)
    }

    @Test("a restore over existing data keeps a file whose pack is missing as it was, and exits non-zero naming it")
    func restoreOverExistingKeepsWhatItCannotRestore() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        try FileTree.write(source + "/kept.txt", Array("snapshot kept".utf8))
        let cli = try LifeboatCLI(scratch: scratch)
        try cli.initialize()
        #expect(try cli.run(["backup", source]).status == 0)
        // lost.txt's content goes into a pack of its own: the second run reuses kept.txt's.
        try FileTree.write(source + "/lost.txt", Array("snapshot lost".utf8))
        #expect(try cli.run(["backup", source]).status == 0)
        let repo = try await TestRepository.open(at: cli.repository)
        let index = try await repo.loadIndex()
        let latest = try #require(try await repo.snapshots().max { $0.snapshot.time < $1.snapshot.time })
        let lost = try await repo.node(at: source + "/lost.txt", in: latest.snapshot.tree, index: index)
        let lostBlob = try #require(lost.content.first)
        let pack = try #require(index.location(of: lostBlob)).pack.hex
        try FileManager.default.removeItem(atPath: cli.repository + "/data/\(pack.prefix(2))/\(pack)")

        // Restoring over existing data, where lost.txt is the only good copy left.
        let target = scratch.path + "/restore"
        try FileTree.mkdir(target + source)
        try FileTree.write(target + source + "/lost.txt", Array("live, newer than any snapshot".utf8))
        try FileTree.write(target + source + "/kept.txt", Array("live kept".utf8))
        let restore = try cli.run(["restore", "latest", "--target", target, "--overwrite", "always"])
        #expect(restore.status == 3, "\(restore.stderr)")
        #expect(restore.stderr.contains(source + "/lost.txt"), "\(restore.stderr)")
        #expect(FileManager.default.contents(atPath: target + source + "/lost.txt") == Data("live, newer than any snapshot".utf8))
        #expect(FileManager.default.contents(atPath: target + source + "/kept.txt") == Data("snapshot kept".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target + source).sorted() == ["kept.txt", "lost.txt"])
    }
}
