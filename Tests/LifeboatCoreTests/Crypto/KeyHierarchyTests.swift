import Crypto
import Foundation
import Testing

@testable import LifeboatCore

@Suite("Key hierarchy and sealing")
struct KeyHierarchyTests {
    let kdf = KDFParameters(n: 1024, r: 8, p: 1)

    @Test("a key file opens with its passphrase and gives back the same master key")
    func keyFileRoundTrip() throws {
        let master = MasterKey.generate()
        let file = try KeyFile.make(masterKey: master, passphrase: "pw", parameters: kdf, host: "h", username: "u", created: Date())
        let opened = try file.open(passphrase: "pw")
        #expect(opened.rawBytes == master.rawBytes)
    }

    @Test("a wrong passphrase is reported as such")
    func wrongPassphrase() throws {
        let file = try KeyFile.make(masterKey: .generate(), passphrase: "pw", parameters: kdf, host: "h", username: "u", created: Date())
        #expect {
            try file.open(passphrase: "not-pw")
        } throws: { error in
            if case CryptoError.wrongPassphrase = error { return true }
            return false
        }
    }

    @Test("out-of-range scrypt parameters are refused")
    func badKDF() {
        #expect(throws: CryptoError.self) {
            try KeyFile.make(masterKey: .generate(), passphrase: "pw", parameters: KDFParameters(n: 1000, r: 8, p: 1), host: "h", username: "u", created: Date())
        }
    }

    static let beyondCaps: [KDFParameters] = [
        KDFParameters(n: 1 << 22, r: 32, p: 1),  // 16 GiB of table: what a planted key file asked for
        KDFParameters(n: 1 << 21, r: 8, p: 1),  // N beyond 2^20
        KDFParameters(n: 1 << 20, r: 16, p: 1),  // 2 GiB of table
        KDFParameters(n: 1 << 16, r: 32, p: 16),  // 256 MiB of table, but 4 GiB of work
        KDFParameters(n: 1 << 15, r: 33, p: 1),
        KDFParameters(n: 1 << 15, r: 8, p: 17),
        KDFParameters(n: 1 << 15, r: 0, p: 1),
        KDFParameters(n: 1 << 15, r: 8, p: 0),
        KDFParameters(n: 1 << 62, r: 8, p: 1),
        KDFParameters(n: Int.max, r: Int.max, p: Int.max),
    ]

    static let withinCaps: [KDFParameters] = [
        KDFParameters.standard, KDFParameters(n: 1 << 20, r: 8, p: 1), KDFParameters(n: 1 << 18, r: 32, p: 1),
        KDFParameters(n: 1 << 14, r: 8, p: 16),
    ]

    @Test("scrypt parameters beyond the caps are refused before anything is derived or allocated", arguments: beyondCaps)
    func kdfCaps(parameters: KDFParameters) {
        #expect(throws: CryptoError.self) { try parameters.validate() }
        #expect(throws: CryptoError.self) { try KeyFile.derive(passphrase: "pw", salt: [0], parameters: parameters) }
    }

    @Test("parameters up to the caps are accepted", arguments: withinCaps)
    func kdfWithinCaps(parameters: KDFParameters) throws {
        try parameters.validate()
    }

    @Test("a data key is sealed under the master key and bound to its id")
    func dataKeyBinding() throws {
        let master = MasterKey.generate()
        let key = DataKey.generate()
        var file = DataKeyFile.seal(key, under: master, created: Date())
        #expect(try file.open(with: master).key == key.key)
        #expect(throws: CryptoError.self) { try file.open(with: .generate()) }
        file.id = DataKeyID(Digest256.random())
        #expect(throws: CryptoError.self) { try file.open(with: master) }
    }

    @Test("sealing authenticates the ciphertext and the additional data")
    func sealing() throws {
        let key = SymmetricKey(size: .bits256)
        var sealed = Sealing.seal(Array("secret".utf8), key: key, additionalData: [1, 2, 3])
        #expect(Array(try Sealing.open(sealed, key: key, additionalData: [1, 2, 3], what: "t")) == Array("secret".utf8))
        #expect(throws: CryptoError.self) { try Sealing.open(sealed, key: key, additionalData: [1, 2, 4], what: "t") }
        sealed[14] ^= 1
        #expect(throws: CryptoError.self) { try Sealing.open(sealed, key: key, additionalData: [1, 2, 3], what: "t") }
    }

    @Test("blob ids are keyed: the same bytes get different ids in different repositories")
    func keyedBlobIDs() {
        let bytes = Array("the same content".utf8)
        let a = MasterKey.generate()
        let b = MasterKey.generate()
        #expect(a.blobID(of: bytes) == a.blobID(of: bytes))
        #expect(a.blobID(of: bytes) != b.blobID(of: bytes))
        #expect(a.blobID(of: bytes).digest != Digest256.sha256(bytes))
    }

    @Test("digests print and parse as 64 hex digits and order like their bytes")
    func digestHex() throws {
        let d = Digest256.random()
        #expect(Digest256(hex: d.hex) == d)
        #expect(Digest256(hex: d.hex.uppercased()) == d)
        #expect(Digest256(hex: "xyz") == nil)
        let low = try #require(Digest256(hex: String(repeating: "0", count: 63) + "1"))
        let high = try #require(Digest256(hex: "1" + String(repeating: "0", count: 63)))
        #expect(low < high)
    }
}
