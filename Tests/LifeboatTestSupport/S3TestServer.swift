import Foundation
import AsyncHTTPClient
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// The S3-compatible server the test command started (moto on 127.0.0.1), and proxies in
/// front of it that check signatures or inject faults (Tests/Support/s3proxy.py).
public enum S3TestServer {
    /// `LIFEBOAT_TEST_S3_ENDPOINT`, set by scripts/test; nil when no server runs.
    public static var endpoint: String? { ProcessInfo.processInfo.environment["LIFEBOAT_TEST_S3_ENDPOINT"] }
    public static var isAvailable: Bool { endpoint != nil }
    /// The tests' one HTTP client, for the life of the test process.
    public static let client = S3Backend.makeClient()

    static let supportDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Support")

    /// A proxy process; stopped when released.
    public final class Proxy: @unchecked Sendable {
        // @unchecked Sendable: the process is started in init and only terminated in deinit.
        public let endpoint: String
        private let process: Process

        public init(_ options: [String]) throws {
            let process = Process()
            self.process = process
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", supportDirectory.appendingPathComponent("s3proxy.py").path, "--upstream", S3TestServer.endpoint!] + options
            let stdout = Pipe()
            process.standardOutput = stdout
            try process.run()
            // The proxy prints its port once it listens; its end of the pipe closes if it dies first.
            let lines = LineReader(stdout.fileHandleForReading)
            guard lines.waitFor("\n") else {
                process.terminate()
                throw ProxyError(description: "the S3 proxy \(options) exited before it listened: \(lines.output)")
            }
            let port = lines.output.trimmingCharacters(in: .whitespacesAndNewlines)
            endpoint = "http://127.0.0.1:\(port)"
        }

        deinit {
            // SIGKILL: a child spawned from a thread that blocks signals inherits the block.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public struct ProxyError: Error, CustomStringConvertible {
        public let description: String
    }

    /// A backend on a fresh bucket (made here), through `endpoint`.
    public static func backend(endpoint: String, bucket: String = "lb-\(UUID().uuidString.prefix(8).lowercased())", prefix: String = "repo", configure: (inout S3Backend.Configuration) -> Void = { _ in })
        async throws -> S3Backend
    {
        var config = S3Backend.Configuration(
            endpoint: URL(string: endpoint)!, region: "us-east-1", bucket: bucket, prefix: prefix,
            credentials: S3Signer.Credentials(accessKeyID: "test", secretAccessKey: "test"))
        configure(&config)
        let backend = S3Backend(configuration: config, client: client)
        try await backend.createBucketIfMissing()
        return backend
    }

    public static var hasBotocore: Bool {
        (try? Shell.run("/usr/bin/env", ["python3", "-c", "import botocore"]).status) == 0
    }
}
