import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A webhook receiver and health endpoint on 127.0.0.1 (Tests/Support/webhook.py): each
/// POST is a line `POST <path> <body>` of ``received``; `GET /health` is 200, `GET /status/N`
/// is N. A request to a path starting with `/hold` is logged (a GET as `GET <path>`) and
/// held unanswered until ``release()``.
public final class WebhookServer: @unchecked Sendable {
    // @unchecked Sendable: the process is started in init and only killed in deinit.
    public let url: String
    public let log: String
    private let process: Process
    /// The server's stdin: it ends when this end closes (the test process ends).
    private let lifeline = Pipe()

    public init(log: String) throws {
        self.log = log
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        self.process = process
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Support/webhook.py")
        process.arguments = ["python3", script.path, log]
        let stdout = Pipe()
        process.standardOutput = stdout
        // Not the test's own output: a server outliving a crashed test would hold it open.
        process.standardError = FileHandle.nullDevice
        process.standardInput = lifeline
        // Only the server may hold the read end and only this process the write end: a child
        // spawned later (another server) holding it would keep this server alive.
        _ = fcntl(lifeline.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
        _ = fcntl(lifeline.fileHandleForReading.fileDescriptor, F_SETFD, FD_CLOEXEC)
        try process.run()
        // The server prints its port once it listens; its end of the pipe closes if it dies first.
        let lines = LineReader(stdout.fileHandleForReading)
        guard lines.waitFor("\n") else {
            process.terminate()
            throw S3TestServer.ProxyError(description: "the webhook server exited before it listened: \(lines.output)")
        }
        url = "http://127.0.0.1:\(lines.output.trimmingCharacters(in: .whitespacesAndNewlines))"
    }

    /// The bodies posted so far, one per line.
    public var received: [String] {
        (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []  // none yet: no file content
    }

    /// Answers the held requests, and every later one at once.
    public func release() throws {
        let out = try Shell.run("/usr/bin/python3", ["-c", "import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()", url + "/release"])
        guard out.status == 0 else { throw S3TestServer.ProxyError(description: "the webhook server did not release: \(out.stderr)") }
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
