/// `lifeboat verify --no-key`: checks, without any key, that every content-addressed
/// object's SHA-256 equals its name and that `config` is readable. Meant for media
/// checked far from the passphrase (removable and air-gapped copies). Keys that are not
/// valid object names of their kind are errors.
public struct ObjectVerifier: Sendable {
    public let backend: any StorageBackend

    public init(backend: any StorageBackend) {
        self.backend = backend
    }

    public func verify() async throws -> CheckReport {
        var report = CheckReport()
        do {
            _ = try await Repository.readConfig(backend)
            report.objectsChecked += 1
        } catch {
            report.errors.append("config: \(error)")
        }
        // A key that is no object name is never read or copied; on a medium it is a sign of
        // tampering, so it fails the check.
        report.errors += try await backend.rejectedKeys([.config, .locks, .wal, .manifest]).map(\.description)
        for kind in ObjectKind.contentAddressed {
            let listing = try await backend.listing(kind)
            report.errors += listing.rejected.map(\.description)
            for info in listing.objects {
                report.objectsChecked += 1
                do {
                    let bytes = try await backend.read(info.name)
                    report.bytesRead += Int64(bytes.count)
                    if Digest256.sha256(bytes).hex != info.name.name {
                        report.errors.append("\(info.name): its SHA-256 does not match its name: the object is damaged")
                    }
                } catch {
                    report.errors.append("\(info.name): \(error)")
                }
            }
        }
        return report
    }
}
