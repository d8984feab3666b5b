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
        /// Whether a write that must not replace an object first asks (HEAD) whether it
        /// exists. Every such write is also conditional (`If-None-Match: *`), which servers
        /// that honour it (AWS S3, MinIO, moto) enforce without a race; the HEAD is for those
        /// that ignore the condition, and costs a request per object on the others.
        public var checksAbsenceFirst = true

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

    /// The most an answer without an object in it may hold (an error document, a PUT's answer).
    static let smallAnswerLimitBytes = 1 << 20
    /// The most a ListObjectsV2 page may hold: 1000 keys of S3's maximum length are 1 MiB,
    /// with their XML a few more.
    static let listingLimitBytes = 8 << 20
    /// The most a whole object may be (``ObjectKind/maxObjectBytes``).
    static let objectLimitBytes = ObjectKind.maxObjectBytes

    /// Sends one request and collects its answer, never more than `limitBytes` of a
    /// successful answer's body, nor more than ``smallAnswerLimitBytes`` of an error
    /// document: a server cannot make us hold more memory than the request can justify.
    func send(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [], body: [UInt8] = [],
        limitBytes: Int = smallAnswerLimitBytes, what: String
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
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: configuration.requestTimeout)
        } catch {
            throw StorageError.transient("\(what): \(error)", location: locationDescription)
        }
        let limit = (200..<300).contains(response.status.code) ? limitBytes : Self.smallAnswerLimitBytes
        // A HEAD's Content-Length is the object's, and it carries no body.
        if method != .HEAD, let declared = response.headers.first(name: "content-length").flatMap(Int.init), declared > limit {
            throw StorageError.oversizedAnswer(what, limitBytes: limit, location: locationDescription)
        }
        do {
            let collected = try await response.body.collect(upTo: limit)
            return Response(status: response.status, headers: response.headers, body: collected)
        } catch is NIOTooManyBytesError {
            throw StorageError.oversizedAnswer(what, limitBytes: limit, location: locationDescription)
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
        // The conditional write (`If-None-Match: *`) is what keeps two writers of one name
        // from replacing each other; the HEAD before it only stands in for it on servers
        // that ignore the condition, and catches there the writes that do not race.
        if !overwrite, configuration.checksAbsenceFirst, try await exists(name) { throw StorageError.alreadyExists(name, location: locationDescription) }
        if bytes.count > configuration.multipartThresholdBytes {
            try await writeMultipart(name, bytes: bytes, overwrite: overwrite)
            return
        }
        var headers = [("x-amz-checksum-sha256", Data(SHA256.hash(data: bytes)).base64EncodedString()), ("content-length", "\(bytes.count)")]
        headers += lockHeaders() + lockedUploadMD5(bytes) + Self.conditionHeaders(overwrite: overwrite)
        let r = try await send(.PUT, key: key(name), headers: headers, body: bytes, what: "PUT \(name)")
        guard r.status == .ok else { throw failure(r, name, what: "PUT \(name)") }
    }

    /// `If-None-Match: *` on every write that must not replace an object.
    static func conditionHeaders(overwrite: Bool) -> [(String, String)] {
        overwrite ? [] : [("if-none-match", "*")]
    }

    public func read(_ name: ObjectName) async throws -> [UInt8] {
        let r = try await send(.GET, key: key(name), limitBytes: Self.objectLimitBytes, what: "GET \(name)")
        guard r.status == .ok else { throw failure(r, name, what: "GET \(name)") }
        if let length = r.headers.first(name: "content-length").flatMap(Int.init), length != r.body.readableBytes {
            throw StorageError.transient("GET \(name): body cut short (\(r.body.readableBytes) of \(length) bytes)", location: locationDescription)
        }
        return Array(buffer: r.body)
    }

    public func read(_ name: ObjectName, offset: Int, length: Int) async throws -> [UInt8] {
        guard length > 0 else { return [] }
        // A range answer holds `length` bytes; a server that ignores the range sends the
        // object from its start, of which the first `offset + length` bytes are all we use.
        let (limit, overflow) = offset.addingReportingOverflow(length)
        guard offset >= 0, !overflow else { throw StorageError.truncated(name, location: locationDescription) }
        let r = try await send(
            .GET, key: key(name), headers: [("range", "bytes=\(offset)-\(offset + length - 1)")], limitBytes: min(limit, Self.objectLimitBytes),
            what: "GET \(name)")
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

    public func listing(_ kind: ObjectKind) async throws -> ObjectListing {
        guard kind.isFolder else {
            let name: ObjectName = kind == .config ? .config : .manifest
            do {
                return ObjectListing(objects: [ObjectInfo(name: name, sizeBytes: try await size(of: name))])
            } catch StorageError.objectNotFound {
                return ObjectListing()
            }
        }
        let folder = configuration.prefix.isEmpty ? "\(kind.rawValue)/" : "\(configuration.prefix)/\(kind.rawValue)/"
        var out = ObjectListing()
        var token: String?
        var tokensSeen = Set<String>()
        repeat {
            // encoding-type=url: a key may hold bytes XML 1.0 cannot carry (control characters).
            var query = [("encoding-type", "url"), ("list-type", "2"), ("max-keys", "\(configuration.listPageSize)"), ("prefix", folder)]
            if let token { query.append(("continuation-token", token)) }
            let r = try await send(.GET, key: nil, query: query, limitBytes: Self.listingLimitBytes, what: "list \(folder)")
            guard r.status == .ok else { throw failure(r, nil, what: "list \(folder)") }
            guard let page = S3XML.ListPage.parse(r.body) else {
                throw StorageError.transient("list \(folder): the answer is not a ListObjectsV2 page", location: locationDescription)
            }
            let folderBytes = Array(folder.utf8)
            for object in page.objects {
                guard let key = S3XML.percentDecoded(object.key) else {
                    out.rejected.append(RejectedObjectKey(kind: kind, key: object.key.utf8, reason: "not percent-encoded", location: locationDescription))
                    continue
                }
                // The server chooses what it lists: a key outside the prefix asked for is as
                // hostile as one that leads out of its folder.
                guard key.starts(with: folderBytes) else {
                    out.rejected.append(RejectedObjectKey(kind: kind, key: key, reason: "outside the prefix listed", location: locationDescription))
                    continue
                }
                let relative = Array(key.dropFirst(folderBytes.count))
                switch ObjectName.classify(kind, relative: String(decoding: relative, as: UTF8.self)) {
                case .object(let name): out.objects.append(ObjectInfo(name: name, sizeBytes: object.sizeBytes, modified: object.modified))
                case .temporary: break
                case .invalid(let reason):
                    out.rejected.append(
                        RejectedObjectKey(kind: kind, key: Array("\(kind.rawValue)/".utf8) + relative, reason: reason, location: locationDescription))
                }
            }
            token = page.isTruncated ? page.nextToken : nil
            if page.isTruncated {
                // A page that says more follows must say where, and never send us back.
                guard let next = token, tokensSeen.insert(next).inserted else {
                    throw StorageError.transient("list \(folder): a truncated page without a new continuation token", location: locationDescription)
                }
            }
        } while token != nil
        out.objects.sort { $0.name < $1.name }
        return out
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
