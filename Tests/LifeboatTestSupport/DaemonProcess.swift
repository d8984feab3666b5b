import AsyncHTTPClient
import NIOCore
import Foundation

/// A `lifeboat serve` started as a real process on a free loopback port: its stderr is read
/// as it comes, so a test waits for the line that says where it listens (or any other), and
/// asks it over HTTP.
public final class DaemonProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is set up in init and only read after; the reader locks.
    public let process = Process()
    public let log: LineReader
    public private(set) var port = 0

    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// Starts `lifeboat serve --listen 127.0.0.1:0 ARGUMENTS` (or another verb that ends in
    /// the daemon, `command`) and waits for its "listening on" line. Its stdout and stderr
    /// are read as one.
    public init(environment: [String: String], arguments: [String] = [], command: [String] = ["serve", "--listen", "127.0.0.1:0"]) throws {
        let stderr = Pipe()
        process.executableURL = URL(fileURLWithPath: LifeboatCLI.executable)
        process.arguments = command + arguments
        process.environment = environment
        process.standardOutput = stderr
        process.standardError = stderr
        try process.run()
        log = LineReader(stderr.fileHandleForReading)
        guard waitFor("listening on http://127.0.0.1:") else {
            throw Failure(description: "lifeboat serve ended before it listened: \(log.readToEnd())")
        }
        let text = log.output
        guard let range = text.range(of: #"listening on http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
            let port = Int(text[range].split(separator: ":").last ?? "")
        else { throw Failure(description: "no port in: \(text)") }
        self.port = port
    }

    /// Starts the daemon as `init` does, waiting off the cooperative pool.
    public static func start(
        environment: [String: String], arguments: [String] = [], command: [String] = ["serve", "--listen", "127.0.0.1:0"]
    ) async throws -> DaemonProcess {
        try await OffPool.run { try DaemonProcess(environment: environment, arguments: arguments, command: command) }
    }

    /// ``waitFor(_:limit:)`` off the cooperative pool.
    public func waitingFor(_ needle: String, limit: Duration = .seconds(60)) async -> Bool {
        (try? await OffPool.run { self.waitFor(needle, limit: limit) }) ?? false
    }

    /// ``waitForExit(limit:)`` off the cooperative pool.
    public func exit(limit: Duration = .seconds(120)) async -> (status: Int32, log: String) {
        (try? await OffPool.run { self.waitForExit(limit: limit) }) ?? (-1, "")
    }

    /// GET `path` (with a bearer token, when given); the status and the body as text.
    public func get(_ path: String, token: String? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 8 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    /// Waits for a line containing `needle`; false when the daemon closed its stderr first,
    /// or when `limit` passed (the daemon is then killed, so that a failing test ends).
    public func waitFor(_ needle: String, limit: Duration = .seconds(60)) -> Bool {
        let process = self.process
        let watchdog = DispatchWorkItem {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(limit.components.seconds)), execute: watchdog)
        defer { watchdog.cancel() }
        return log.waitFor(needle)
    }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the end; the exit status and everything it logged. After `limit` the daemon
    /// is killed (status 9 by signal: the test sees it did not stop by itself).
    public func waitForExit(limit: Duration = .seconds(120)) -> (status: Int32, log: String) {
        let process = self.process
        let watchdog = DispatchWorkItem {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(limit.components.seconds)), execute: watchdog)
        defer { watchdog.cancel() }
        let text = log.readToEnd()
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
