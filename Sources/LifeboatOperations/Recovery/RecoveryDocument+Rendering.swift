import Foundation

extension RecoveryDocument {
    /// CommonMark, with pipe tables.
    public var markdown: String {
        var out = "# \(title)\n"
        for block in blocks {
            out += "\n"
            switch block {
            case .heading(let level, let text): out += String(repeating: "#", count: min(6, level + 1)) + " " + text + "\n"
            case .paragraph(let text): out += text + "\n"
            case .list(let items): out += items.map { "- " + $0.replacingOccurrences(of: "\n", with: "\n  ") + "\n" }.joined()
            case .code(let text):
                let fence = text.contains("```") ? "~~~~" : "```"
                out += "\(fence)sh\n\(text)\n\(fence)\n"
            case .table(let header, let rows):
                func row(_ cells: [String]) -> String {
                    "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }.joined(separator: " | ") + " |\n"
                }
                out += row(header) + row(header.map { _ in "---" }) + rows.map(row).joined()
            }
        }
        return out
    }

    /// One page, no outside asset, styles for the screen and for paper.
    public var html: String {
        var body = "<h1>\(Self.escape(title))</h1>\n"
        for block in blocks {
            switch block {
            case .heading(let level, let text):
                let h = min(6, level + 1)
                body += "<h\(h)>\(Self.escape(text))</h\(h)>\n"
            case .paragraph(let text): body += "<p>\(Self.escape(text))</p>\n"
            case .list(let items): body += "<ul>\n" + items.map { "<li>\(Self.escape($0))</li>\n" }.joined() + "</ul>\n"
            case .code(let text): body += "<pre><code>\(Self.escape(text))</code></pre>\n"
            case .table(let header, let rows):
                body += "<table>\n<thead><tr>" + header.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
                body += rows.map { "<tr>" + $0.map { "<td>\(Self.escape($0))</td>" }.joined() + "</tr>\n" }.joined()
                body += "</tbody>\n</table>\n"
            }
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(Self.escape(title))</title>
            <style>
            body { font: 11pt/1.45 system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #111; }
            h1, h2, h3 { line-height: 1.2; }
            h2 { border-bottom: 1px solid #999; padding-bottom: .2em; margin-top: 1.6em; }
            pre { background: #f3f3f3; border: 1px solid #ccc; padding: .6em; white-space: pre-wrap; word-break: break-all; }
            table { border-collapse: collapse; width: 100%; margin: .6em 0; }
            th, td { border: 1px solid #999; padding: .25em .5em; text-align: left; vertical-align: top; }
            th { background: #eee; }
            @media print {
              body { margin: 0; max-width: none; font-size: 10pt; }
              h2 { break-after: avoid; }
              pre, table, li { break-inside: avoid; }
              pre { background: none; }
            }
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
