import Foundation
import LifeboatCore
import LifeboatTestSupport
import Testing

@Suite("lifeboat backup --compression")
struct CompressionCLITests {
    @Test("max stores less than auto, auto less than fastest, and each restores the same bytes")
    func modes() throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("data")
        // Text with some variety: every level compresses it, higher ones better.
        var rng = SeededBytes(seed: 9)
        let words = ["backup", "restore", "lifeboat", "snapshot", "catalog", "recovery", "objective", "location"]
        var text = ""
        while text.utf8.count < 3_000_000 {
            let r = rng.bytes(3)
            text += words[Int(r[0]) % words.count] + (r[1] % 7 == 0 ? "\n" : " ") + String(r[2] % 100) + " "
        }
        try FileTree.write(source + "/log.txt", Array(text.utf8))
        var stored: [CompressionMode: Int] = [:]
        for mode in CompressionMode.allCases {
            let place = ScratchDirectory()  // held: the repository lives in it
            let cli = try LifeboatCLI(scratch: place)
            try cli.initialize()
            let out = try cli.run(["backup", source, "--compression", mode.rawValue, "--json"])
            #expect(out.status == 0, "\(out.stderr)")
            // The sealed blobs' bytes: a pack's size also holds random padding (up to 64 KiB),
            // which would blur a difference of a few percent.
            let stats = try #require(try LifeboatCLI.json(try cli.run(["stats", "--json"])) as? [String: Any])
            stored[mode] = try #require((stats["total"] as? [String: Any])?["uniqueStoredBytes"] as? Int, "\(stats)")
            let file = scratch.path + "/\(mode.rawValue).txt"
            let dumped = try Shell.run(
                "/bin/sh", ["-c", "exec \"$@\" > \"$OUT\"", "sh", LifeboatCLI.executable, "dump", "latest", source + "/log.txt"],
                environment: cli.environment.merging(["OUT": file]) { $1 })
            #expect(dumped.status == 0, "\(dumped.stderr)")
            #expect(FileManager.default.contents(atPath: file) == Data(text.utf8))
        }
        #expect(stored[.max]! < stored[.auto]!, "\(stored)")
        #expect(stored[.auto]! < stored[.fastest]!, "\(stored)")
        let wrong = try LifeboatCLI(scratch: scratch).run(["backup", source, "--compression", "best"])
        #expect(wrong.status == 64)
    }
}
