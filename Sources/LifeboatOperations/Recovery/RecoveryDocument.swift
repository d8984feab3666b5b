import Foundation

/// A document for people (a runbook, a report) as blocks, rendered as Markdown or as one
/// self-contained HTML page (RecoveryDocument+Rendering.swift): the content is written
/// once, the two formats cannot drift apart.
public struct RecoveryDocument: Sendable {
    public var title: String
    public var blocks: [Block]

    public enum Block: Sendable {
        case heading(Int, String)
        case paragraph(String)
        case list([String])
        /// Commands to type, verbatim.
        case code(String)
        case table(header: [String], rows: [[String]])
    }

    public init(title: String, blocks: [Block] = []) {
        self.title = title
        self.blocks = blocks
    }

    mutating func add(_ block: Block) { blocks.append(block) }

    public enum Format: String, Sendable, CaseIterable {
        case markdown
        case html
    }

    public func rendered(as format: Format) -> String {
        switch format {
        case .markdown: return markdown
        case .html: return html
        }
    }
}
