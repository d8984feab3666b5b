import Foundation
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

extension RecoverySandbox {
    /// A drill's scratch PostgreSQL cluster, as written beside its data directory when it
    /// was started, so that a later step, a resumed drill or the sandbox's removal finds it.
    struct Cluster: Codable, Sendable {
        var dataDirectory: String
        var port: Int
        /// The folder of its socket: in the sandbox, or a folder of its own in /tmp when the
        /// sandbox's path is too long for a socket (removed with the sandbox).
        var socketDirectory: String
        var logFile: String
    }

    func clusterFile(of source: String) -> String { root(of: source) + "/cluster.json" }

    func cluster(of source: String) -> Cluster? {
        // No file (or a half-written one from a killed attempt) is no cluster started.
        guard let data = FileManager.default.contents(atPath: clusterFile(of: source)) else { return nil }
        return try? JSONDecoder().decode(Cluster.self, from: data)
    }

    func record(_ cluster: Cluster, of source: String) throws {
        try JSONEncoder().encode(cluster).write(to: URL(fileURLWithPath: clusterFile(of: source)), options: .atomic)
    }

    /// Stops every cluster a drill started in this sandbox, a running one left by a
    /// killed executor included, and removes the socket folders it made outside it.
    /// Runs before any removal: a server must not keep writing into a deleted folder.
    func stopClusters() {
        // A sandbox that cannot be listed holds no cluster to stop.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            stopCluster(of: name)
        }
    }

    /// Stops the cluster of one source, if one was started, and removes its outside socket folder.
    func stopCluster(of source: String) {
        let data = root(of: source) + "/pgdata"
        if FileManager.default.fileExists(atPath: data + "/postmaster.pid"), let server = try? PostgreSQLServer(dataDirectory: data) {
            // `immediate`: a scratch copy has nothing worth a clean shutdown; a server already
            // gone makes pg_ctl fail, which is what was wanted.
            _ = try? PostgreSQLServer.run(
                server.binDirectory + "/pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"], as: geteuid() == 0 ? server.owner : nil, environment: server.environment)
        }
        if let cluster = cluster(of: source), !cluster.socketDirectory.hasPrefix(path + "/") {
            rmdir(cluster.socketDirectory)  // empty once its server stopped; a leftover socket folder harms nothing
        }
    }
}
