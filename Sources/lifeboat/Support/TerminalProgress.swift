import Foundation
import LifeboatCore
import LifeboatOperations

/// A backup's progress on stderr: files and bytes read so far (a backup does not know its
/// total ahead). On a terminal one line rewritten; with `--verbose` a line every 5 s, or a
/// JSON line with `--json`; nothing with `--quiet`, or when piped without `--verbose`.
struct TerminalProgress: Sendable {
    let mode: ProgressDisplay.Mode
    var isActive: Bool { mode != .off }

    init(mode: ProgressDisplay.Mode) {
        self.mode = mode
    }

    /// Runs `body` with a stream whose events are shown as they come; the stream ends, and
    /// the last line is cleared, before this returns or throws.
    func rendering<T: Sendable>(_ body: (AsyncStream<BackupProgress>.Continuation) async throws -> T) async throws -> T {
        let (events, continuation) = AsyncStream<BackupProgress>.makeStream(bufferingPolicy: .bufferingNewest(64))
        async let rendered: Void = render(events)
        do {
            let result = try await body(continuation)
            continuation.finish()
            await rendered
            return result
        } catch {
            continuation.finish()
            await rendered
            throw error
        }
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
                guard mode != .jsonLines else { continue }
                write("\(type.rawValue) backup of \(paths.joined(separator: " "))\(parent.map { " (parent \($0.shortHex))" } ?? "")\n")
            case .fileDone(_, _, let files, let bytes):
                let now = clock.now
                guard now - last > (mode == .terminal ? .milliseconds(250) : .seconds(5)) else { continue }
                last = now
                let elapsed = now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let rate = seconds > 0 ? Int64(Double(bytes) / seconds) : 0
                switch mode {
                case .terminal:
                    line = "\r[\(ProgressDisplay.clock(seconds))] \(files) files, \(ByteFormat.string(bytes)) read, \(ByteFormat.string(rate))/s"
                    write(line + "   ")
                case .lines, .jsonLines:
                    let reading = ProgressMeter.Reading(phase: "reading files", itemsDone: Int64(files), bytesDone: bytes)
                    ProgressDisplay.emit(reading, verb: "backup", mode: mode, elapsed: elapsed, final: false)
                case .off: continue
                }
            case .warning(let message):
                // Elsewhere the warnings come once, at the end.
                guard mode == .terminal else { continue }
                write("\r\u{1B}[K" + "warning: \(message)\n" + line)
            }
        }
        if mode == .terminal && !line.isEmpty { write("\r\u{1B}[K") }
    }

    private func write(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }
}
