import Foundation
import LifeboatTestSupport
import Testing

@Suite("scripts/install-completions")
struct InstallCompletionsTests {
    /// The repository's root, from this file's place in it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test("install-completions writes bash, zsh and fish completions and a man page per verb from the built binary; bash loads them, man renders a page")
    func installs() throws {
        let scratch = ScratchDirectory()
        let prefix = scratch.path + "/prefix"
        let out = try Shell.run(Self.root + "/scripts/install-completions", ["--prefix", prefix, "--binary", LifeboatCLI.executable])
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        let files = [
            "share/bash-completion/completions/lifeboat", "share/zsh/site-functions/_lifeboat", "share/fish/vendor_completions.d/lifeboat.fish",
            "share/man/man1/lifeboat.1", "share/man/man1/lifeboat-restore.1", "share/man/man1/lifeboat-key-add.1",
        ]
        for file in files {
            #expect((try? FileManager.default.attributesOfItem(atPath: prefix + "/" + file)[.size] as? Int) ?? 0 > 0, "\(file) is written")
        }

        let bash = try Shell.run("/bin/bash", ["-c", "source \"$0\" && complete -p lifeboat", prefix + "/share/bash-completion/completions/lifeboat"])
        #expect(bash.status == 0 && bash.stdout.contains("lifeboat"), "\(bash.stdout)\(bash.stderr)")
        #expect(try String(contentsOfFile: prefix + "/share/zsh/site-functions/_lifeboat", encoding: .utf8).hasPrefix("#compdef lifeboat"))

        let page = prefix + "/share/man/man1/lifeboat-restore.1"
        // groff's warnings (-ww) are what a malformed page gives; -z renders to nothing.
        let groff = try Shell.run("/usr/bin/groff", ["-man", "-Tutf8", "-ww", "-z", page])
        #expect(groff.status == 0 && groff.stderr.isEmpty, "\(groff.stderr)")
        var env = ProcessInfo.processInfo.environment
        env["MANPAGER"] = "cat"
        env["MANWIDTH"] = "200"
        let man = try Shell.run("/usr/bin/man", ["-l", page], environment: env)
        #expect(man.status == 0, "\(man.stderr)")
        #expect(man.stdout.contains("lifeboat restore - Restore a snapshot"), "\(man.stdout)")
        #expect(man.stdout.contains("--dry-run"), "the page comes from this binary's options")

        let bad = try Shell.run(Self.root + "/scripts/install-completions", ["--binary", scratch.path + "/nothing", "--prefix", prefix])
        #expect(bad.status == 1 && bad.stderr.contains("no lifeboat binary"), "\(bad.stderr)")
    }
}
