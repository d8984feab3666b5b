import Foundation
import LifeboatCore
import LifeboatOperations

/// Shows a ``ProgressMeter`` on stderr while a verb runs: done and total, rate, ETA. The
/// meter is read on a timer, so the work never waits for the terminal.
struct ProgressDisplay: Sendable {
    enum Mode: Sendable {
        case off
        /// One line, rewritten four times a second.
        case terminal
        /// A line every 5 s, for logs.
        case lines
        /// A JSON object a line every 5 s: `{"progress": {"verb", "phase", "itemsDone", …}}`.
        case jsonLines
    }

    let verb: String
    let mode: Mode
    let meter = ProgressMeter()

    /// Runs `body` with the meter shown; the last reading stays on the terminal's line.
    func show<T: Sendable>(_ body: (ProgressMeter?) async throws -> T) async throws -> T {
        guard mode != .off else { return try await body(nil) }
        let meter = self.meter
        let start = ContinuousClock.now
        let ticker = Task {
            let interval: Duration = mode == .terminal ? .milliseconds(250) : .seconds(5)
            // Ends with the verb: cancelled below, its sleep throws.
            while (try? await Task.sleep(for: interval)) != nil {
                emit(meter.reading, elapsed: ContinuousClock.now - start, final: false)
            }
        }
        defer { ticker.cancel() }
        let result = try await body(meter)
        ticker.cancel()
        _ = await ticker.result
        emit(meter.reading, elapsed: ContinuousClock.now - start, final: true)
        return result
    }

    private func emit(_ r: ProgressMeter.Reading, elapsed: Duration, final: Bool) {
        Self.emit(r, verb: verb, mode: mode, elapsed: elapsed, final: final)
    }

    /// Writes one reading as `mode` shows it (also a backup's, from its events).
    static func emit(_ r: ProgressMeter.Reading, verb: String, mode: Mode, elapsed: Duration, final: Bool) {
        guard !r.phase.isEmpty else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(r.bytesDone) / seconds : 0
        let eta: Double? = r.bytesTotal.flatMap { total in rate > 0 && total > r.bytesDone ? Double(total - r.bytesDone) / rate : nil }
        switch mode {
        case .off: return
        case .jsonLines:
            let line = ProgressLine(progress: .init(
                verb: verb, phase: r.phase, itemsDone: r.itemsDone, itemsTotal: r.itemsTotal, bytesDone: r.bytesDone, bytesTotal: r.bytesTotal,
                bytesPerSecond: Int64(rate), etaSeconds: eta.map { Int64($0.rounded()) }, elapsedSeconds: (seconds * 10).rounded() / 10, final: final))
            // Plain values only: encoding cannot fail, and a lost progress line would lose nothing.
            guard let data = try? encoder.encode(line) else { return }
            FileHandle.standardError.write(data + Data("\n".utf8))
        case .lines, .terminal:
            var text = "\(r.phase): \(r.itemsDone)\(r.itemsTotal.map { "/\($0)" } ?? "")"
            text += ", \(ByteFormat.string(r.bytesDone))\(r.bytesTotal.map { "/\(ByteFormat.string($0))" } ?? "")"
            if let total = r.bytesTotal, total > 0 { text += String(format: " (%.0f%%)", 100 * Double(r.bytesDone) / Double(total)) }
            text += ", \(ByteFormat.string(Int64(rate)))/s"
            if let eta, !final { text += ", ETA \(Self.clock(eta))" }
            text += " [\(Self.clock(seconds))]"
            if mode == .terminal {
                FileHandle.standardError.write(Data("\r\u{1B}[K\(text)\(final ? "\n" : "")".utf8))
            } else {
                FileHandle.standardError.write(Data("\(text)\n".utf8))
            }
        }
    }

    /// `1:05` or `2:03:07`.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// One JSON progress line: `{"progress": {...}}`, totals and ETA left out when unknown.
private struct ProgressLine: Encodable {
    struct Fields: Encodable {
        let verb, phase: String
        let itemsDone: Int64
        let itemsTotal: Int64?
        let bytesDone: Int64
        let bytesTotal: Int64?
        let bytesPerSecond: Int64
        let etaSeconds: Int64?
        let elapsedSeconds: Double
        let final: Bool
    }
    let progress: Fields
}

/// One line each: sorted keys, no pretty-printing.
private let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return e
}()
