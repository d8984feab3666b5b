import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A browser's part in the console tests, over the in-process router: it keeps the cookies
/// the server sets (honouring Max-Age=0 and the Path), sends them back, and reads the CSRF
/// token of the page it last loaded.
final class ConsoleBrowser: @unchecked Sendable {
    let client: any TestClientProtocol
    private(set) var cookies: [String: String] = [:]
    /// Each Set-Cookie line as received, by cookie name (for its attributes).
    private(set) var setCookies: [String: String] = [:]
    private(set) var lastPage = ""

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    struct Page {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String
    }

    @discardableResult
    func get(_ uri: String) async throws -> Page {
        try await send(uri, method: .get, body: nil)
    }

    /// Posts a URL-encoded form; `csrf` (when true) adds the CSRF token of the last page.
    @discardableResult
    func post(_ uri: String, _ fields: [(String, String)], csrf: Bool = true) async throws -> Page {
        var fields = fields
        if csrf, let token = Self.hidden("csrf", in: lastPage) { fields.append(("csrf", token)) }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        return try await send(uri, method: .post, body: body)
    }

    private func send(_ uri: String, method: HTTPRequest.Method, body: String?) async throws -> Page {
        var headers: HTTPFields = [:]
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        for line in response.headers[values: .setCookie] {
            let parts = line.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            setCookies[name] = line
            if parts.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = String(pair[pair.index(after: equals)...]) }
        }
        let page = Page(status: response.status, headers: response.headers, body: String(buffer: response.body))
        if page.headers[.contentType]?.hasPrefix("text/html") == true { lastPage = page.body }
        return page
    }

    /// A hidden input's value in a page.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: #"name="\#(name)" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Logs in with `token` through the login form.
    @discardableResult
    func logIn(_ token: String, next: String = "/console") async throws -> Page {
        try await get("/console/login?next=\(next)")
        return try await post("/console/login", [("token", token), ("next", next)])
    }
}
