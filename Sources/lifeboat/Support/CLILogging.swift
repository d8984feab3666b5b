import Foundation
import Logging

/// The CLI's log: warnings and errors on stderr (stdout may carry `--json`), one line each.
enum CLILogging {
    static func bootstrap() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
    }

    static let logger = Logger(label: "lifeboat")
}
