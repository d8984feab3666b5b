import Foundation

/// A webhook receiver on loopback (Tests/Support/webhook_receiver.py): every POST it gets is
/// a file in ``directory``, in order, which a test waits for with ``EventWait``.
public final class WebhookReceiver: @unchecked Sendable {
    // @unchecked Sendable: set up in init, read-only after.
    public let directory: String
    public let port: Int
    private let process = Process()

    public struct Delivery: Sendable {
        /// The last element of the path the POST went to (`json`, `slack`, `pagerduty`).
        public var path: String
        public var body: [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
        public var data: Data
    }

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Support/webhook_receiver.py").path
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, directory]
        process.standardOutput = stdout
        try process.run()
        let reader = LineReader(stdout.fileHandleForReading)
        guard reader.waitFor("\n"), let port = Int(reader.output.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") else {
            kill(process.processIdentifier, SIGKILL)
            throw DaemonProcess.Failure(description: "the webhook receiver did not start: \(reader.output)")
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test runner may hand its children SIGTERM ignored.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }

    /// What it received so far, in order.
    public var deliveries: [Delivery] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { return nil }
            let path = String(name.dropFirst(7).dropLast(5))
            return Delivery(path: path, data: data)
        }
    }
}
