import Testing

@testable import LifeboatOperations

@Suite("RedactedURL: a webhook's URL shown without what may be its secret")
struct RedactedURLTests {
    @Test(
        "scheme, host and port are kept; a path, query, fragment or user become …",
        arguments: [
            ("https://hooks.slack.com/services/T0001/B0002/xoxsecret", "https://hooks.slack.com/…"),
            ("https://ops.example.org:8443/hook?token=abc", "https://ops.example.org:8443/…"),
            ("https://user:pass@ops.example.org/", "https://ops.example.org/"),
            ("http://127.0.0.1:9", "http://127.0.0.1:9/"),
            ("http://ops.example.org/#key", "http://ops.example.org/…"),
            ("not a url", "(a URL that cannot be parsed)"),
        ])
    func redacts(url: String, shown: String) {
        #expect(RedactedURL(url).description == shown)
    }

    @Test("an error quoting the URL, its path or its query is scrubbed of them")
    func scrubs() {
        let url = "https://hooks.example.org/services/T1/B2/s3cr3t?token=t0k3n"
        let text = "POST \(url) failed; path /services/T1/B2/s3cr3t; query token=t0k3n"
        let scrubbed = RedactedURL.scrub(text, of: url)
        #expect(!scrubbed.contains("s3cr3t") && !scrubbed.contains("t0k3n"), "\(scrubbed)")
        #expect(scrubbed.hasPrefix("POST https://hooks.example.org/… failed"), "\(scrubbed)")
    }
}
