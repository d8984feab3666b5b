extension MediumManifest {
    /// Checks the medium against the manifest, reading every object: each listed object is
    /// there with its size and SHA-256, and nothing is there unlisted (a key that is no object
    /// name is an error too, and never read).
    public func verify(_ backend: any StorageBackend) async throws -> CheckReport {
        var report = CheckReport()
        var seen = Set<String>()
        for kind in Self.kinds {
            let listing = try await backend.listing(kind)
            report.errors += listing.rejected.map(\.description)
            for info in listing.objects {
                seen.insert(info.name.path)
                report.objectsChecked += 1
                guard let entry = objects[info.name.path] else {
                    report.errors.append("\(info.name) is on the medium but not in its manifest")
                    continue
                }
                let bytes = try await backend.read(info.name)
                report.bytesRead += Int64(bytes.count)
                if bytes.count != entry.sizeBytes || Digest256.sha256(bytes).hex != entry.sha256 {
                    report.errors.append("\(info.name) does not match its manifest entry: it is damaged")
                }
            }
        }
        for path in objects.keys.sorted() where !seen.contains(path) {
            report.errors.append("\(path) is in the manifest but missing from the medium")
        }
        return report
    }
}
