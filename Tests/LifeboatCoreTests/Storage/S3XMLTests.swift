import NIOCore
import Testing

@testable import LifeboatCore

@Suite("S3 listing pages")
struct S3XMLTests {
    static let page = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>true</IsTruncated>\
        <Contents><Key>app/data/ab/x%20y</Key><LastModified>2026-11-29T10:00:00.000Z</LastModified><Size>12</Size></Contents>\
        <Contents><Key>app/wal/a&amp;b</Key><Size>0</Size></Contents>\
        <NextContinuationToken>1ue&#43;Gcx/L=</NextContinuationToken></ListBucketResult>
        """

    static func parse(_ text: String) -> S3XML.ListPage? { S3XML.ListPage.parse(ByteBuffer(string: text)) }

    @Test("a page gives its objects, sizes, times, whether it is truncated and its token, entities replaced")
    func wholePage() throws {
        let page = try #require(Self.parse(Self.page))
        #expect(page.objects.map(\.key) == ["app/data/ab/x%20y", "app/wal/a&b"])
        #expect(page.objects.map(\.sizeBytes) == [12, 0])
        #expect(page.objects[0].modified != nil && page.objects[1].modified == nil)
        #expect(page.isTruncated && page.nextToken == "1ue+Gcx/L=")
    }

    @Test("a page cut short, an entry without a size, markup in a key, bytes that are not UTF-8 and processing instructions are no listing, and nothing traps")
    func brokenPages() {
        let cut = String(Self.page.prefix(Self.page.count - 30))
        let noSize = Self.page.replacingOccurrences(of: "<Size>0</Size>", with: "")
        let markup = Self.page.replacingOccurrences(of: "a&amp;b", with: "a<b/>")
        let unknownEntity = Self.page.replacingOccurrences(of: "a&amp;b", with: "a&nbsp;b")
        for text in [cut, noSize, markup, unknownEntity, "", "<Error><Code>SlowDown</Code></Error>"] {
            #expect(Self.parse(text) == nil, "\(text.suffix(60))")
        }
        #expect(S3XML.ListPage.parse(ByteBuffer(bytes: Array("<ListBucketResult><Contents><Key>".utf8) + [0xFF, 0xFE])) == nil)
        _ = Self.parse("<?x?><ListBucketResult></ListBucketResult>")
    }
}
