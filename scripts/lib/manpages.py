#!/usr/bin/env python3
"""Man pages (roff, section 1) from `lifeboat --experimental-dump-help` JSON.

Reads the JSON on stdin and writes lifeboat.1 and one page per verb (lifeboat-VERB.1,
lifeboat-VERB-SUB.1 for nested ones) into the directory given as the only argument.
The JSON is argument-parser's ToolInfo (serializationVersion 0): the same text `--help`
shows, so the pages never disagree with the binary they come from.
"""
import json
import sys
from datetime import date

SOURCE = "Lifeboat"
MANUAL = "Lifeboat Manual"


def escape(text):
    """Text safe in roff: backslashes doubled, hyphens and leading dots/quotes neutralised."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith(".") or line.startswith("'"):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def flag_names(arg):
    out = []
    for n in arg.get("names", []):
        prefix = "-" if n["kind"] == "short" else "--"
        out.append(prefix + n["name"])
    return out


def synopsis(path, command):
    parts = []
    for arg in command.get("arguments", []):
        if not arg.get("shouldDisplay", True):
            continue
        value = arg.get("valueName", "value")
        if arg["kind"] == "positional":
            item = "\\fI" + escape(value) + "\\fR"
        else:
            names = flag_names(arg)
            name = "\\fB" + escape(names[-1] if names else "--" + value) + "\\fR"
            item = name if arg["kind"] == "flag" else name + " \\fI" + escape(value) + "\\fR"
        if arg.get("isRepeating"):
            item += " ..."
        if arg.get("isOptional"):
            item = "[" + item + "]"
        parts.append(item)
    if command.get("subcommands"):
        parts.append("\\fIsubcommand\\fR")
    return ".SH SYNOPSIS\n.B " + escape(" ".join(path)) + "\n" + " ".join(parts) + "\n"


def page(path, command, today):
    name = "-".join(path)
    out = [
        '.TH "%s" "1" "%s" "%s" "%s"' % (escape(name.upper()), today, SOURCE, MANUAL),
        ".SH NAME",
        "%s \\- %s" % (escape(" ".join(path)), escape(command.get("abstract", "") or "")),
        synopsis(path, command).rstrip("\n"),
    ]
    if command.get("discussion"):
        out += [".SH DESCRIPTION", escape(command["discussion"])]
    args = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True)]
    if args:
        out.append(".SH OPTIONS")
        for arg in args:
            if arg["kind"] == "positional":
                label = "\\fI" + escape(arg.get("valueName", "value")) + "\\fR"
            else:
                label = ", ".join("\\fB" + escape(n) + "\\fR" for n in flag_names(arg))
                if arg["kind"] == "option":
                    label += " \\fI" + escape(arg.get("valueName", "value")) + "\\fR"
            out += [".TP", label]
            text = arg.get("abstract", "") or ""
            if arg.get("defaultValue") not in (None, ""):
                text += " (default: %s)" % arg["defaultValue"]
            if arg.get("allValues"):
                text += " Values: %s." % ", ".join(arg["allValues"])
            out.append(escape(text) if text else "\\&")
    subs = [s for s in command.get("subcommands", []) if s.get("shouldDisplay", True) and s["commandName"] != "help"]
    if subs:
        out.append(".SH COMMANDS")
        for s in subs:
            out += [".TP", "\\fB" + escape(" ".join(path + [s["commandName"]])) + "\\fR", escape(s.get("abstract", "") or "\\&")]
    see = ["lifeboat(1)"] if len(path) > 1 else []
    see += ["%s(1)" % "-".join(path + [s["commandName"]]) for s in subs]
    if see:
        out += [".SH SEE ALSO", escape(", ".join(see))]
    return name, "\n".join(out) + "\n"


def walk(path, command, today):
    yield page(path, command, today)
    for s in command.get("subcommands", []):
        if s.get("shouldDisplay", True) and s["commandName"] != "help":
            yield from walk(path + [s["commandName"]], s, today)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: manpages.py OUTPUT_DIR < dump-help.json")
    info = json.load(sys.stdin)
    if info.get("serializationVersion") != 0:
        sys.exit("manpages.py: unknown dump-help serializationVersion %r" % info.get("serializationVersion"))
    today = date.today().isoformat()
    root = info["command"]
    count = 0
    for name, text in walk([root["commandName"]], root, today):
        with open("%s/%s.1" % (sys.argv[1], name), "w", encoding="utf-8") as f:
            f.write(text)
        count += 1
    print("%d man pages in %s" % (count, sys.argv[1]))


if __name__ == "__main__":
    main()
