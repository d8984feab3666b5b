import AsyncHTTPClient
import Foundation
import Hummingbird
import LifeboatCore
import LifeboatOperations
import LifeboatTestSupport
import NIOCore
import NIOSSL
import Testing

@testable import LifeboatServer

/// The listener over TLS with a self-signed certificate made by openssl for the test: a
/// client that trusts it gets the daemon's routes on 127.0.0.1; one that does not, or that
/// speaks plain HTTP, gets nothing. Bad files stop the start with a sentence naming them.
@Suite("ListenerTLS", .timeLimit(.minutes(5)))
struct ListenerTLSTests {
    let scratch = ScratchDirectory("tls")
    let daemon: Daemon

    init() throws {
        let config = try LifeboatConfiguration.decode(
            """
            locations:
              - { name: primary, role: PRIMARY, path: \(scratch.path)/primary }
            sources:
              - { name: app, kind: files, paths: [\(scratch.path)/app] }
            catalog: { sqlite: \(scratch.path)/catalog.sqlite }
            """, file: scratch.path + "/lifeboat.yaml")
        let context = OperationsContext(
            configuration: config, secrets: SecretLookup(environment: [:]), backends: LocationBackends(environment: [:], sharing: { HTTPClient.shared }),
            programVersion: "test")
        daemon = Daemon(jobs: ScheduledJobs(context: context, passphrase: "unused"), listen: ListenAddress("127.0.0.1:0")!, logger: .init(label: "test"))
    }

    /// A self-signed certificate for 127.0.0.1 (as an IP subject alternative name) and its key.
    func certificate(_ name: String) throws -> LifeboatConfiguration.Server.TLS {
        let tls = LifeboatConfiguration.Server.TLS(certificate: "\(scratch.path)/\(name).crt", key: "\(scratch.path)/\(name).key")
        let out = try Shell.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", tls.key, "-out", tls.certificate,
                "-days", "2", "-subj", "/CN=lifeboat test \(name)", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        try #require(out.status == 0, "\(out.stderr)")
        return tls
    }

    /// Runs the daemon's router over `tls` on a free loopback port while `body` runs.
    func serving(_ tls: LifeboatConfiguration.Server.TLS, _ body: @Sendable (Int) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: daemon.router(), server: try ListenerTLS.server(tls), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await body(port)
            group.cancelAll()
        }
    }

    func client(trusting certificate: String?) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let certificate { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate)) }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // Limits for an answer that is coming, not guesses of how soon: a loaded two-core CI
        // machine took more than 10 s to complete one handshake. The requests expected to
        // fail set short deadlines of their own.
        configuration.timeout = .init(connect: .seconds(120), read: .seconds(120))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    @Test("a client trusting the certificate gets /healthz over HTTPS; one that does not, or plain HTTP, gets no answer")
    func https() async throws {
        let tls = try certificate("server")
        let other = try certificate("other")
        #expect(ListenerTLS.scheme(tls) == "https")
        #expect(ListenerTLS.scheme(nil) == "http")
        try await serving(tls) { port in
            let trusting = try client(trusting: tls.certificate)
            let stranger = try client(trusting: other.certificate)
            let plain = try client(trusting: nil)
            do {
                let response = try await trusting.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/healthz"), timeout: .seconds(120))
                #expect(response.status == .ok)
                #expect(String(buffer: try await response.body.collect(upTo: 1024)) == "ok\n")
                // AsyncHTTPClient retries a failed handshake until the deadline: a short one
                // keeps the test quick, and a handshake that succeeded would answer at once.
                await #expect(throws: (any Error).self) {
                    _ = try await stranger.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/healthz"), timeout: .seconds(2))
                }
                await #expect(throws: (any Error).self) {
                    _ = try await plain.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/healthz"), timeout: .seconds(2))
                }
                let overHTTP = try? await plain.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
                #expect(overHTTP?.status != .ok)
            } catch {
                Issue.record(error)
            }
            try await trusting.shutdown()
            try await stranger.shutdown()
            try await plain.shutdown()
        }
    }

    @Test("a missing certificate, a file that is no key, and a key of another certificate are refused, naming the setting and the file")
    func badFiles() throws {
        let tls = try certificate("server")
        let other = try certificate("other")
        func message(_ tls: LifeboatConfiguration.Server.TLS) -> String? {
            do {
                _ = try ListenerTLS.server(tls)
                return nil
            } catch {
                return (error as? ConfigurationError)?.description
            }
        }
        let missing = message(.init(certificate: scratch.path + "/none.crt", key: tls.key))
        #expect(missing?.contains("server.tls.certificate") == true && missing?.contains("/none.crt") == true, "\(missing ?? "no error")")
        let notAKey = message(.init(certificate: tls.certificate, key: tls.certificate))
        #expect(notAKey?.contains("server.tls.key") == true && notAKey?.contains("as a PEM private key") == true, "\(notAKey ?? "no error")")
        let mismatched = message(.init(certificate: tls.certificate, key: other.key))
        #expect(mismatched?.contains("does not go with the certificate \(tls.certificate)") == true, "\(mismatched ?? "no error")")
        #expect(message(tls) == nil)
    }
}
