import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import LifeboatOperations
import NIOCore
import NIOSSL

/// How the listener speaks: plain HTTP/1.1, or HTTP/1.1 over TLS (swift-nio-ssl) with the
/// certificate and key `server.tls` names. Both are loaded, and checked to belong together,
/// before the server starts, so that a bad file stops `lifeboat serve` with a sentence
/// instead of failing each connection's handshake.
enum ListenerTLS {
    /// - Throws: ``ConfigurationError/invalid(at:_:)`` naming the setting and the file.
    static func server(_ tls: LifeboatConfiguration.Server.TLS?) throws -> HTTPServerBuilder {
        guard let tls else { return .http1() }
        return try .tls(.http1(), tlsConfiguration: configuration(tls))
    }

    /// The scheme clients use: `https` with `server.tls`, else `http`.
    static func scheme(_ tls: LifeboatConfiguration.Server.TLS?) -> String { tls == nil ? "http" : "https" }

    static func configuration(_ tls: LifeboatConfiguration.Server.TLS) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.certificate)
        } catch {
            throw ConfigurationError.invalid(
                at: "server.tls.certificate", "cannot load \(tls.certificate) as a PEM certificate (\(Self.reason(error))): check the path and that it is readable")
        }
        guard !chain.isEmpty else {
            throw ConfigurationError.invalid(at: "server.tls.certificate", "\(tls.certificate) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
        } catch {
            throw ConfigurationError.invalid(
                at: "server.tls.key", "cannot load \(tls.key) as a PEM private key (\(Self.reason(error))): check the path and that it is readable (and not encrypted)")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            // Made here only to check: BoringSSL refuses a key that is not the certificate's.
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError.invalid(
                at: "server.tls", "the key \(tls.key) does not go with the certificate \(tls.certificate) (\(Self.reason(error)))")
        }
        return configuration
    }

    private static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return io.description }
        return String(describing: error)
    }
}
