import Foundation
import LifeboatFuzzTargets
import Testing

/// The committed corpus of each fuzz target (`Tests/Fuzz/Corpus/<target>/`: the seeds and
/// every input a fuzzing run found a crash with, once fixed) replayed through it, so that
/// a finding stays fixed without a fuzzing build.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus").path

    @Test("every committed input of the target parses or fails cleanly", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        let folder = Self.corpus + "/" + target.rawValue
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
        #expect(!names.isEmpty, "no seeds in \(folder): run lifeboat-fuzz seeds")
        for name in names.sorted() {
            let input = try #require(FileManager.default.contents(atPath: folder + "/" + name), "cannot read \(name)")
            target.run(Array(input))
        }
    }
}
