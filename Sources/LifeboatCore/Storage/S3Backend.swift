@preconcurrency import Crypto
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// An S3-compatible bucket (the SECONDARY location): `s3://bucket/prefix`.
///
/// Requests are signed with SigV4 (``S3Signer``) and sent with async-http-client, path-style
/// (`http://endpoint/bucket/key`), which every S3-compatible server accepts. Every upload
/// carries `x-amz-checksum-sha256`, so the server refuses a body that arrives damaged;
/// objects larger than `multipartThresholdBytes` go up in parts. Failures the server or the
/// network may not repeat (5xx, 429, timeouts, resets) are ``StorageError/transient(_:location:)``,
/// which ``RetryingBackend`` retries; this type itself never retries.
public final class S3Backend: StorageBackend {
    public struct Configuration: Sendable {
        public var endpoint: URL
        public var region: String
        public var bucket: String
        public var prefix: String
        public var credentials: S3Signer.Credentials
        public var multipartThresholdBytes = 64 << 20
        public var partBytes = 16 << 20
        /// When set, every object is written with S3 Object Lock, retained for the period
        /// from its write; a bucket made by ``createBucketIfMissing()`` has Object Lock enabled.
        public var objectLock: ObjectLock?
        public var requestTimeout: TimeAmount = .seconds(120)
        /// Keys per ListObjectsV2 page (S3's maximum is 1000).
        public var listPageSize = 1000

        public init(endpoint: URL, region: String, bucket: String, prefix: String, credentials: S3Signer.Credentials) {
            self.endpoint = endpoint
            self.region = region
            self.bucket = bucket
            self.prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            self.credentials = credentials
        }
    }

    public let configuration: Configuration
    private let signer: S3Signer
    private let client: HTTPClient
    public var locationDescription: String { "s3://\(configuration.bucket)/\(configuration.prefix)" }

    /// A client set up for S3 locations; its owner shares it among them and shuts it down.
    /// A connection that cannot be made fails its request at once (within `connect`), and
    /// ``RetryingBackend`` retries it with backoff: async-http-client's own default retries
    /// connecting until the request's deadline, so an endpoint that is down took minutes.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// - Parameter client: the caller's, and the caller shuts it down (``makeClient()``).
    public init(configuration: Configuration, client: HTTPClient) {
        self.configuration = configuration
        self.signer = S3Signer(credentials: configuration.credentials, region: configuration.region)
        self.client = client
    }

    func key(_ name: ObjectName) -> String {
        configuration.prefix.isEmpty ? name.path : "\(configuration.prefix)/\(name.path)"
    }

    // MARK: - Requests

    struct Response {
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: ByteBuffer
    }

    func send(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [], body: [UInt8] = [],
        what: String
    ) async throws -> Response {
        let path = "/\(configuration.bucket)" + (key.map { "/\($0)" } ?? "")
        let host = configuration.endpoint.host.map { h in configuration.endpoint.port.map { "\(h):\($0)" } ?? h } ?? ""
        let payloadHash = S3Signer.hex(SHA256.hash(data: body))
        var toSign = extra
        toSign.append(("host", host))
        let signed = signer.sign(method: method.rawValue, path: path, query: query, headers: toSign, payloadSHA256: payloadHash, date: Date())
        var url = configuration.endpoint.absoluteString
        while url.hasSuffix("/") { url.removeLast() }
        url += S3Signer.encodePath(path)
        if !query.isEmpty { url += "?" + S3Signer.canonicalQuery(query) }
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (k, v) in extra { request.headers.add(name: k, value: v) }
        for (k, v) in signed { request.headers.add(name: k, value: v) }
        if !body.isEmpty || method == .PUT || method == .POST {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: configuration.requestTimeout)
            let collected = try await response.body.collect(upTo: 1 << 30)
            return Response(status: response.status, headers: response.headers, body: collected)
        } catch {
            throw StorageError.transient("\(what): \(error)", location: locationDescription)
        }
    }

    func failure(_ r: Response, _ name: ObjectName?, what: String) -> StorageError {
        let code = S3XML.errorCode(r.body)
        switch r.status.code {
        case 404: return name.map { .objectNotFound($0, location: locationDescription) } ?? .locationNotFound(location: locationDescription)
        case 403: return .permissionDenied("\(what) (\(code ?? "AccessDenied"))", location: locationDescription)
        case 409, 412: return name.map { .alreadyExists($0, location: locationDescription) } ?? .io(what, errno: EEXIST, location: locationDescription)
        case 429, 500...599: return .transient("\(what): HTTP \(r.status.code) \(code ?? "")", location: locationDescription)
        default: return .io("\(what): HTTP \(r.status.code) \(code ?? "")", errno: EIO, location: locationDescription)
        }
    }

    // MARK: - StorageBackend

    public func write(_ name: ObjectName, bytes: [UInt8], overwrite: Bool) async throws {
        if !overwrite, try await exists(name) { throw StorageError.alreadyExists(name, location: locationDescription) }
        if bytes.count > configuration.multipartThresholdBytes {
            try await writeMultipart(name, bytes: bytes)
            return
        }
        var headers = [("x-amz-checksum-sha256", Data(SHA256.hash(data: bytes)).base64EncodedString()), ("content-length", "\(bytes.count)")]
        headers += lockHeaders() + lockedUploadMD5(bytes)
        let r = try await send(.PUT, key: key(name), headers: headers, body: bytes, what: "PUT \(name)")
        guard r.status == .ok else { throw failure(r, name, what: "PUT \(name)") }
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] {
        let r = try await send(.GET, key: key(name), what: "GET \(name)")
        guard r.status == .ok else { throw failure(r, name, what: "GET \(name)") }
        if let length = r.headers.first(name: "content-length").flatMap(Int.init), length != r.body.readableBytes {
            throw StorageError.transient("GET \(name): body cut short (\(r.body.readableBytes) of \(length) bytes)", location: locationDescription)
        }
        return Array(buffer: r.body)
    }

    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        guard length > 0 else { return [] }
        let r = try await send(.GET, key: key(name), headers: [("range", "bytes=\(offset)-\(offset + length - 1)")], what: "GET \(name)")
        guard r.status == .partialContent || r.status == .ok else {
            if r.status.code == 416 { throw StorageError.truncated(name, location: locationDescription) }
            throw failure(r, name, what: "GET \(name)")
        }
        var bytes = Array(buffer: r.body)
        if r.status == .ok { bytes = Array(bytes.dropFirst(offset).prefix(length)) }
        guard bytes.count == length else {
            // A short range answer: the object is shorter than asked, or the body was cut.
            throw StorageError.truncated(name, location: locationDescription)
        }
        return bytes
    }

    public func size(of name: ObjectName) async throws -> Int {
        let r = try await send(.HEAD, key: key(name), what: "HEAD \(name)")
        guard r.status == .ok else { throw failure(r, name, what: "HEAD \(name)") }
        return r.headers.first(name: "content-length").flatMap(Int.init) ?? 0
    }

    public func list(_ kind: ObjectKind) async throws -> [ObjectInfo] {
        if kind == .config || kind == .manifest {
            let name: ObjectName = kind == .config ? .config : .manifest
            do {
                return [ObjectInfo(name: name, sizeBytes: try await size(of: name))]
            } catch StorageError.objectNotFound {
                return []
            }
        }
        let folder = configuration.prefix.isEmpty ? "\(kind.rawValue)/" : "\(configuration.prefix)/\(kind.rawValue)/"
        var out: [ObjectInfo] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("max-keys", "\(configuration.listPageSize)"), ("prefix", folder)]
            if let token { query.append(("continuation-token", token)) }
            let r = try await send(.GET, key: nil, query: query, what: "list \(folder)")
            guard r.status == .ok else { throw failure(r, nil, what: "list \(folder)") }
            let page = S3XML.ListPage.parse(r.body)
            for (k, size) in page.objects {
                let rest = String(k.dropFirst(folder.count))
                let name: String
                switch kind {
                case .data: name = String(rest.split(separator: "/").last ?? "")
                case .wal: name = rest
                default: name = rest
                }
                guard !name.isEmpty, !name.hasPrefix(".") else { continue }
                out.append(ObjectInfo(name: ObjectName(kind, name), sizeBytes: size))
            }
            token = page.isTruncated ? page.nextToken : nil
        } while token != nil
        return out.sorted { $0.name < $1.name }
    }

    public func delete(_ name: ObjectName) async throws {
        let r = try await send(.DELETE, key: key(name), what: "DELETE \(name)")
        guard r.status == .noContent || r.status == .ok else { throw failure(r, name, what: "DELETE \(name)") }
    }

    /// Creates the bucket if it does not exist (for `init` on a fresh server).
    public func createBucketIfMissing() async throws {
        let head = try await send(.HEAD, key: nil, what: "HEAD bucket")
        if head.status == .ok { return }
        // Outside us-east-1, AWS wants the region named in the request body.
        let body = configuration.region == "us-east-1" ? [] : Array(
            "<CreateBucketConfiguration><LocationConstraint>\(configuration.region)</LocationConstraint></CreateBucketConfiguration>".utf8)
        // Object Lock can only be enabled when the bucket is made (it turns on versioning).
        let lockHeader = configuration.objectLock == nil ? [] : [("x-amz-bucket-object-lock-enabled", "true")]
        let r = try await send(.PUT, key: nil, headers: lockHeader, body: body, what: "create bucket \(configuration.bucket)")
        guard r.status == .ok || S3XML.errorCode(r.body) == "BucketAlreadyOwnedByYou" else { throw failure(r, nil, what: "create bucket") }
    }

}
