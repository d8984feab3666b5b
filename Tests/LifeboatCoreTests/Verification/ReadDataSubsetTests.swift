import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("check --read-data-subset")
struct ReadDataSubsetTests {
    @Test("n/m and x% parse; anything else is refused with what is expected", arguments: ["0/3", "4/3", "1/0", "a/b", "1/2/3", "0%", "101%", "x%", "", "50"])
    func refusals(text: String) {
        #expect(throws: ReadDataSubsetError.self) { try ReadDataSubset(parsing: text) }
        #expect(ReadDataSubsetError(text).description.contains("n/m"))
    }

    @Test("parses")
    func parses() throws {
        #expect(try ReadDataSubset(parsing: "2/7") == .group(2, of: 7))
        #expect(try ReadDataSubset(parsing: "12.5%") == .percent(12.5))
        #expect(try ReadDataSubset(parsing: "100%").description == "100%")
    }

    @Test("the groups 1/m to m/m split the names: each once, the same every time, about evenly")
    func groupsPartition() throws {
        let names = (0..<3000).map { Digest256.sha256(Array("pack \($0)".utf8)).hex } + (1...300).map { "00000001/\(String(format: "%024X", $0))" }
        var seen: [String: Int] = [:]
        for n in 1...5 {
            let chosen = ReadDataSubset.group(n, of: 5).select(names) { $0 }
            #expect(chosen == ReadDataSubset.group(n, of: 5).select(names) { $0 }, "the same group on every run")
            #expect(chosen.count > 3300 / 5 / 2, "group \(n) of 5 holds \(chosen.count) of \(names.count)")
            for name in chosen { seen[name, default: 0] += 1 }
        }
        #expect(seen.count == names.count && seen.values.allSatisfy { $0 == 1 })
    }

    @Test("x% takes that share, rounded up, at least one")
    func percent() {
        let names = (0..<200).map(String.init)
        #expect(ReadDataSubset.percent(10).select(names) { $0 }.count == 20)
        #expect(ReadDataSubset.percent(0.1).select(names) { $0 }.count == 1)
        #expect(Set(ReadDataSubset.percent(100).select(names) { $0 }) == Set(names))
        #expect(ReadDataSubset.percent(50).select([String]()) { $0 }.isEmpty)
    }

    @Test("a damaged pack is found by exactly the group that reads it, and the groups together read every pack")
    func damagedPackFoundByItsGroup() async throws {
        let scratch = ScratchDirectory()
        let source = try scratch.sub("source")
        var rng = SeededBytes(seed: 11)
        // Several packs: the data packs' target is 16 MiB, each backup flushes its own.
        let repo = try await TestRepository.create(at: scratch.path + "/repo")
        for n in 0..<6 {
            try FileTree.write(source + "/f\(n).bin", rng.bytes(300_000))
            _ = try await TestRepository.backup(repo, [source])
        }
        let packs = TestRepository.allObjects(at: scratch.path + "/repo").keys.filter { $0.hasPrefix("data/") }.sorted()
        #expect(packs.count >= 6)
        // A pack of file content (the largest), not of trees: check reads trees in every group.
        let size = { (p: String) in (try? FileManager.default.attributesOfItem(atPath: scratch.path + "/repo/" + p)[.size] as? Int) ?? 0 }
        let victim = try #require(packs.max { size($0) < size($1) })
        let damaged = scratch.path + "/repo/" + victim
        var bytes = Array(FileManager.default.contents(atPath: damaged)!)
        bytes[bytes.count / 3] ^= 0x55
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))

        var read = 0
        var failing: [Int] = []
        for n in 1...3 {
            let report = try await Checker(repository: repo).check(readData: true, subset: .group(n, of: 3))
            read += report.packsChecked
            if !report.isOK {
                failing.append(n)
                #expect(report.errors.contains { $0.contains(String(victim.suffix(64))) }, "\(report.errors)")
            }
        }
        #expect(read == packs.count)
        #expect(failing.count == 1)
    }
}
