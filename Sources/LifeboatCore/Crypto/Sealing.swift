@preconcurrency import Crypto
import Foundation

/// AES-256-GCM with a random 96-bit nonce; the sealed form is `nonce || ciphertext || tag`.
///
/// Every sealed thing in a repository (blobs, pack headers, index segments, snapshots,
/// data keys, the master key) uses this layout; what differs is the key and the
/// additional data, which binds the ciphertext to its role and name.
public enum Sealing {
    public static let nonceBytes = 12
    public static let tagBytes = 16
    public static let overheadBytes = nonceBytes + tagBytes

    /// Seals `plaintext` and appends the sealed form to `output`.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, key: SymmetricKey, additionalData: UnsafeRawBufferPointer,
        appendingTo output: inout [UInt8]
    ) {
        // `try!` is safe: AES-GCM sealing fails only for a wrong key size, which the types exclude.
        let box = try! AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: additionalData)
        // `combined` is non-nil for the standard 12-byte nonce.
        output.append(contentsOf: box.combined!)
    }

    public static func seal(_ plaintext: [UInt8], key: SymmetricKey, additionalData: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(plaintext.count + overheadBytes)
        plaintext.withUnsafeBytes { p in
            additionalData.withUnsafeBytes { ad in seal(p, key: key, additionalData: ad, appendingTo: &out) }
        }
        return out
    }

    /// Opens a sealed form; throws ``CryptoError/authenticationFailed(what:)`` when it was altered.
    public static func open(
        _ sealed: UnsafeRawBufferPointer, key: SymmetricKey, additionalData: UnsafeRawBufferPointer, what: @autoclosure () -> String
    ) throws -> Data {
        guard sealed.count >= overheadBytes else {
            throw CryptoError.malformed(what: what(), reason: "\(sealed.count) bytes is shorter than nonce and tag")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return try AES.GCM.open(box, using: key, authenticating: additionalData)
        } catch {
            throw CryptoError.authenticationFailed(what: what())
        }
    }

    public static func open(_ sealed: [UInt8], key: SymmetricKey, additionalData: [UInt8], what: @autoclosure () -> String) throws -> Data {
        let w = what()
        return try sealed.withUnsafeBytes { (p) throws -> Data in
            try additionalData.withUnsafeBytes { (ad) throws -> Data in try open(p, key: key, additionalData: ad, what: w) }
        }
    }
}
