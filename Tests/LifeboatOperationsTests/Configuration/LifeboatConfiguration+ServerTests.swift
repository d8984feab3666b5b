import Foundation
import LifeboatOperations
import LifeboatTestSupport
import Testing

/// `server.tls` in lifeboat.yaml: both keys, no other, and nothing read until serving.
@Suite("lifeboat.yaml: server.tls")
struct LifeboatConfigurationServerTests {
    let scratch = ScratchDirectory("config-server")

    func load(_ server: String) throws -> LifeboatConfiguration {
        let path = scratch.path + "/lifeboat.yaml"
        try "sources:\n  - { name: a, kind: files, paths: [/srv/a] }\nserver: \(server)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return try LifeboatConfiguration.load(path)
    }

    @Test("a certificate and a key are kept as paths; the files are not read when loading")
    func tls() throws {
        let config = try load("{ listen: '0.0.0.0:8443', tls: { certificate: /etc/lifeboat/tls.crt, key: /etc/lifeboat/tls.key } }")
        #expect(config.serverSettings.tls == .init(certificate: "/etc/lifeboat/tls.crt", key: "/etc/lifeboat/tls.key"))
        #expect(try load("{ timeZone: UTC }").serverSettings.tls == nil)
    }

    @Test("a mistyped or missing key of server.tls is an error, not a listener left on plain HTTP", arguments: [
        ("{ tls: { certificate: /c.crt, keyFile: /k.key } }", "keyFile"),
        ("{ tls: { certificate: /c.crt } }", "key"),
        ("{ tls: { certificate: '', key: /k.key } }", "server.tls needs both certificate and key"),
        ("{ tsl: { certificate: /c.crt, key: /k.key } }", "tsl"),
    ])
    func refused(server: String, mentions: String) throws {
        #expect {
            try load(server)
        } throws: { error in
            "\(error)".contains(mentions)
        }
    }
}
