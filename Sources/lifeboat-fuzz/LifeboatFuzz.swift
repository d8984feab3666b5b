import Foundation
import LifeboatFuzzTargets

#if LIFEBOAT_FUZZING
// Built by scripts/fuzz with `-sanitize=fuzzer`: `main` hands the process to libFuzzer's
// driver (libFuzzer's own `main` would clash with the entry point SwiftPM links).
import CLibFuzzer

@main
struct LifeboatFuzz {
    /// The target this process fuzzes, named by LIFEBOAT_FUZZ_TARGET (libFuzzer owns argv).
    static let target: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["LIFEBOAT_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(
                Data("lifeboat-fuzz: set LIFEBOAT_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(64)
        }
        return target
    }()

    static func main() {
        _ = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in
            LifeboatFuzz.target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
            return 0
        })
    }
}

#else

/// Without libFuzzer: replays inputs through a target (to reproduce a finding under a
/// debugger, or check a fix), and writes the seed corpus.
@main
struct LifeboatFuzz {
    static let usage = """
        usage: lifeboat-fuzz replay TARGET FILE_OR_FOLDER...
               lifeboat-fuzz seeds FIXTURE_REPOSITORY PASSPHRASE CORPUS_FOLDER
        targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))
        """

    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "replay" where arguments.count >= 3:
            guard let target = FuzzTarget(rawValue: arguments[1]) else { fail("unknown target '\(arguments[1])'") }
            var count = 0
            for path in arguments.dropFirst(2) {
                for file in inputs(at: path) {
                    guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
                    target.run(Array(data))
                    count += 1
                }
            }
            print("replayed \(count) inputs through \(target.rawValue)")
        case "seeds" where arguments.count == 4:
            try await writeSeeds(fixture: arguments[1], passphrase: arguments[2], corpus: arguments[3])
        default:
            fail(usage)
        }
    }

    static func inputs(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []  // an unreadable folder holds no inputs
        return names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
    }

    static func writeSeeds(fixture: String, passphrase: String, corpus: String) async throws {
        let repository = try await FuzzTarget.openFixture(path: fixture, passphrase: passphrase)
        for target in FuzzTarget.allCases {
            let folder = corpus + "/" + target.rawValue
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (i, seed) in try await target.seeds(fixture: repository).enumerated() {
                FileManager.default.createFile(atPath: "\(folder)/seed-\(i + 1)", contents: Data(seed))
            }
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("lifeboat-fuzz: \(message)\n".utf8))
        exit(64)
    }
}

#endif
