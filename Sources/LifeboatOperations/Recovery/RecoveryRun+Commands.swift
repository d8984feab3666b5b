import AsyncHTTPClient
import Foundation
import LifeboatCatalog
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

extension RecoveryRun {
    /// The most of a command's output a step's log keeps: its end.
    static let commandOutputLimit = 8 * 1024

    /// RUN_COMMAND: the program with its arguments (no shell), in the executor's
    /// environment plus the step's, the execution's, and in a drill the sandbox's
    /// (`LIFEBOAT_SANDBOX_<SOURCE>_PATH` for each source restored there; for a PostgreSQL
    /// source's scratch cluster also `_PORT` and `_HOST`, its socket folder). Killed when the
    /// attempt is cancelled or times out.
    func runCommand(_ step: RecoveryStep) async throws -> StepResult {
        let command = step.command ?? []
        // Named after the execution and step: a run killed mid-way leaves it, its resume reuses it.
        let output = executor.scratchDirectory + "/lifeboat-step-\(id.uuidString.lowercased())-\(step.name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? String($0) : "_" }.joined()).log"
        guard FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o600]),
            let sink = FileHandle(forWritingAtPath: output)
        else {
            throw RecoveryError.stepFailed("cannot make the output file \(output) for step '\(step.name)'")
        }
        defer {
            try? sink.close()  // written by the child only; nothing to flush here
            unlink(output)
        }
        let program = try resolve(command[0], in: commandEnvironment(step))
        // posix_spawn and waitpid on this pid, not Foundation's Process: Process ends only once
        // every descendant closed what it inherited, and a server the command starts
        // (`pg_ctl start`) lives on.
        let pid = try ChildProcess.spawn([program] + command.dropFirst(), environment: commandEnvironment(step), stdout: sink.fileDescriptor, stderr: sink.fileDescriptor)
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                // A thread of its own: a command may run for as long as its step allows.
                let waiter = Thread {
                    do {
                        continuation.resume(returning: try ChildProcess.waitForExit(pid, program: program))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                waiter.start()
            }
        } onCancel: {
            kill(pid, SIGKILL)
        }
        try Task.checkCancellation()
        let text = Self.tail(of: output)
        guard status == 0 else {
            throw RecoveryError.stepFailed("\(command.joined(separator: " ")) exited with status \(status)\(text.isEmpty ? "" : ": \(text)")")
        }
        return StepResult(log: (text.isEmpty ? "" : text + "\n") + "\(command.joined(separator: " ")): exit status 0")
    }

    /// The environment a command runs in.
    func commandEnvironment(_ step: RecoveryStep) -> [String: String] {
        var environment = executor.context.secrets.environment
        // The repository's passphrase is Lifeboat's, not the plan's commands'.
        environment.removeValue(forKey: "LIFEBOAT_PASSWORD")
        environment["LIFEBOAT_EXECUTION_ID"] = id.uuidString.lowercased()
        environment["LIFEBOAT_PLAN"] = plan.name
        environment["LIFEBOAT_MODE"] = record.mode.rawValue
        if let sandbox {
            environment["LIFEBOAT_SANDBOX"] = sandbox.path
            for source in executor.context.configuration.sources where FileManager.default.fileExists(atPath: sandbox.root(of: source.name)) {
                environment[RecoverySandbox.variable(for: source.name)] = sandbox.restoredPath(of: source)
                if let cluster = sandbox.cluster(of: source.name) {
                    environment[RecoverySandbox.variable(for: source.name, "PORT")] = "\(cluster.port)"
                    environment[RecoverySandbox.variable(for: source.name, "HOST")] = cluster.socketDirectory
                }
            }
        }
        for (key, value) in step.environment ?? [:] { environment[key] = value }
        return environment
    }

    /// A program named without a slash is looked up in the command's PATH.
    private func resolve(_ program: String, in environment: [String: String]) throws -> String {
        if program.contains("/") { return program }
        for folder in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw RecoveryError.stepFailed("the program '\(program)' is not in PATH: name it by its absolute path")
    }

    private static func tail(of file: String) -> String {
        guard let data = FileManager.default.contents(atPath: file) else { return "" }
        let text = String(decoding: data.suffix(commandOutputLimit), as: UTF8.self)
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// NOTIFY: a JSON POST to a webhook of lifeboat.yaml; in a drill the message says so.
    /// At least once: an attempt cut short (a crash, a kill) after the receiver got the POST
    /// but before its answer was recorded posts again on resume, with the same `execution`
    /// and `step`, by which a receiver can tell the repeat. Never at most once: a
    /// notification lost to a crash is worse in an incident than one sent twice.
    func notify(_ step: RecoveryStep) async throws -> StepResult {
        let name = step.webhook ?? ""
        guard let url = executor.context.configuration.webhooks[name] else {
            throw RecoveryError.stepFailed("lifeboat.yaml has no webhook '\(name)' any more: add it back, or change the plan")
        }
        let isDrill = record.mode == .test
        let message = (isDrill ? "[DRILL] " : "") + (step.message ?? "")
        let payload = NotifyPayload(
            plan: plan.name, revision: record.revision, execution: id.uuidString.lowercased(), mode: record.mode.rawValue, drill: isDrill, step: step.name,
            message: message, incidentTime: ISO8601.format(record.incidentTime))
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(Array(try JSONEncoder().encode(payload)))
        let response: HTTPClientResponse
        do {
            response = try await executor.httpClient.execute(request, timeout: .seconds(30))
        } catch {
            // The URL is shown redacted, and scrubbed from the client's error: it often is the secret.
            throw RecoveryError.stepFailed("the webhook '\(name)' (\(RedactedURL(url))) could not be reached: \(RedactedURL.scrub("\(error)", of: url))")
        }
        _ = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw RecoveryError.stepFailed("the webhook '\(name)' answered \(response.status.code)")
        }
        return StepResult(log: "posted to webhook '\(name)': \(message)")
    }

    struct NotifyPayload: Encodable {
        let plan: String
        let revision: Int
        let execution: String
        let mode: String
        let drill: Bool
        let step: String
        let message: String
        let incidentTime: String
    }
}
