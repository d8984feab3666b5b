import Foundation
import LifeboatCore
import LifeboatOperations

/// Progress on stderr when it is a terminal; nothing when piped or with --json.
struct TerminalProgress: Sendable {
    let isActive: Bool

    init(enabled: Bool) {
        isActive = enabled && isatty(2) == 1
    }

    func render(_ events: AsyncStream<BackupProgress>) async {
        let clock = ContinuousClock()
        let start = clock.now
        var last = start
        var line = ""
        for await event in events {
            guard isActive else { continue }
            switch event {
            case .started(let paths, let type, let parent):
                write("\(type.rawValue) backup of \(paths.joined(separator: " "))\(parent.map { " (parent \($0.shortHex))" } ?? "")\n")
            case .fileDone(_, _, let files, let bytes):
                let now = clock.now
                guard now - last > .milliseconds(250) else { continue }
                last = now
                let seconds = Double((now - start).components.seconds)
                line = "\r[\(Int(seconds))s] \(files) files, \(ByteFormat.string(bytes)) read"
                write(line + "   ")
            case .warning(let message):
                write("\r\u{1B}[K" + "warning: \(message)\n" + line)
            }
        }
        if isActive && !line.isEmpty { write("\r\u{1B}[K") }
    }

    private func write(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }
}
