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
        guard !r.phase.isEmpty else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(r.bytesDone) / seconds : 0
        let eta: Double? = r.bytesTotal.flatMap { total in rate > 0 && total > r.bytesDone ? Double(total - r.bytesDone) / rate : nil }
        switch mode {
        case .off: return
        case .jsonLines:
            var fields: [String: JSONValue] = [
                "verb": .string(verb), "phase": .string(r.phase), "itemsDone": .int(r.itemsDone), "bytesDone": .int(r.bytesDone),
                "elapsedSeconds": .double((seconds * 10).rounded() / 10), "bytesPerSecond": .int(Int64(rate)), "final": .bool(final),
            ]
            if let t = r.itemsTotal { fields["itemsTotal"] = .int(t) }
            if let t = r.bytesTotal { fields["bytesTotal"] = .int(t) }
            if let eta { fields["etaSeconds"] = .int(Int64(eta.rounded())) }
            guard let data = try? JSONEncoder.sortedKeys.encode(["progress": fields]) else { return }
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

/// The few JSON values a progress line holds.
enum JSONValue: Encodable, Sendable {
    case string(String), int(Int64), double(Double), bool(Bool)

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .bool(let v): try c.encode(v)
        }
    }
}

extension JSONEncoder {
    static var sortedKeys: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
