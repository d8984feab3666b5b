import AsyncHTTPClient
import Foundation
import LifeboatCore
import Synchronization

/// What the CLI process holds for its whole life: one HTTP client for every S3 location a
/// command opens, made on first use and shut down by the entry point before it exits.
enum CLIResources {
    private static let client = Mutex<HTTPClient?>(nil)

    /// The process's HTTP client, made when first asked for.
    static func httpClient() -> HTTPClient {
        client.withLock { c in
            if let c { return c }
            let made = S3Backend.makeClient()
            c = made
            return made
        }
    }

    /// Closes the client if one was made.
    static func shutdown() async {
        let made = client.withLock { c in
            defer { c = nil }
            return c
        }
        // The process is about to exit: a client that fails to close loses nothing.
        try? await made?.shutdown()
    }
}
