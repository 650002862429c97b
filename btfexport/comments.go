package btfexport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// docBlock is one run of `///` comment lines and the declaration that follows it.
type docBlock struct {
	line   int    // 1-based line of the first `///`
	keys   fields // parsed @commands and description
	decl   string // declaration text after the comment, up to `;`, `{` or `=` (see scanDecl)
	mapDef bool   // the declaration is `struct { ... } name SEC(".maps")`
	after  string // for mapDef: the text after the closing brace
}

// blockCommands are doxygen block commands whose text is always kept as a string.
var blockCommands = map[string]bool{"brief": true, "details": true, "version": true}

// scanDocComments finds ecc-style doc comments in C source: runs of lines starting with `///`
// directly above a declaration (blank lines in between are allowed). Within a run,
//
//   - a line `@key VALUE` sets key to VALUE, parsed as JSON when it is valid JSON and kept as a
//     string otherwise; a bare `@key` is true; following lines that do not start with `@` and
//     are not empty continue VALUE (so a JSON object may span lines);
//   - text before the first `@key` line is the `description` (JSON if valid, else a string);
//   - `@brief`, `@details` and `@version` are always strings.
//
// This is a line-based subset of what ecc gets from libclang: `/** */` comments, `//!` and
// doxygen markup other than the above are ignored.
func scanDocComments(name string, src []byte) ([]docBlock, error) {
	lines := strings.Split(string(src), "\n")
	var blocks []docBlock
	for i := 0; i < len(lines); i++ {
		if !isDocLine(lines[i]) {
			continue
		}
		start := i
		var text []string
		for ; i < len(lines) && isDocLine(lines[i]); i++ {
			t := strings.TrimSpace(lines[i])
			t = strings.TrimPrefix(t, "///")
			t = strings.TrimPrefix(t, " ")
			text = append(text, strings.TrimRight(t, " \t\r"))
		}
		keys, err := parseDocText(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, start+1, err)
		}
		b := docBlock{line: start + 1, keys: keys}
		b.decl, b.mapDef, b.after = scanDecl(lines[i:])
		blocks = append(blocks, b)
		i--
	}
	return blocks, nil
}

func isDocLine(l string) bool {
	t := strings.TrimSpace(l)
	return strings.HasPrefix(t, "///") && !strings.HasPrefix(t, "////")
}

func parseDocText(text []string) (fields, error) {
	keys := fields{}
	var desc []string
	var key string
	var val []string
	flush := func() error {
		if key == "" {
			return nil
		}
		v := strings.TrimSpace(strings.Join(val, "\n"))
		var raw json.RawMessage
		switch {
		case blockCommands[key]:
			raw = jsonString(v)
		case v == "":
			raw = json.RawMessage("true")
		default:
			raw = jsonValue(v)
		}
		if _, dup := keys[key]; dup {
			return fmt.Errorf("@%s given twice", key)
		}
		keys[key] = raw
		key, val = "", nil
		return nil
	}
	for _, t := range text {
		switch {
		case strings.HasPrefix(t, "@"):
			if err := flush(); err != nil {
				return nil, err
			}
			k, v, _ := strings.Cut(t[1:], " ")
			k = strings.TrimSpace(k)
			if k == "" {
				return nil, fmt.Errorf("empty @ command")
			}
			key, val = k, []string{v}
		case strings.TrimSpace(t) == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case key != "":
			val = append(val, t)
		default:
			desc = append(desc, strings.TrimSpace(t))
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if d := strings.TrimSpace(strings.Join(desc, " ")); d != "" {
		if _, dup := keys["description"]; !dup {
			keys["description"] = jsonValue(d)
		}
	}
	return keys, nil
}

// jsonValue returns v compacted if it is valid JSON, else v as a JSON string.
func jsonValue(v string) json.RawMessage {
	var buf bytes.Buffer
	if json.Valid([]byte(v)) && json.Compact(&buf, []byte(v)) == nil {
		return json.RawMessage(buf.Bytes())
	}
	return jsonString(v)
}

func jsonString(v string) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a string always encodes
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n"))
}

var (
	identRE     = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	stringLitRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	mapStartRE  = regexp.MustCompile(`^\s*struct\s*\{`)
)

// scanDecl returns the declaration starting at lines[0] (after blank lines): the text up to the
// first `;`, `{` or `=` outside parentheses. A `struct { ... }` map definition is read to its
// closing brace, and the text after it up to `;` is returned separately.
func scanDecl(lines []string) (decl string, mapDef bool, after string) {
	var b strings.Builder
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	if len(lines) > 200 {
		lines = lines[:200]
	}
	text := stringLitRE.ReplaceAllString(strings.Join(lines, "\n"), `""`)
	if mapStartRE.MatchString(text) {
		depth := 0
		for i, r := range text {
			switch r {
			case '{':
				depth++
			case '}':
				depth--
				if depth == 0 {
					rest := text[i+1:]
					if j := strings.IndexByte(rest, ';'); j >= 0 {
						rest = rest[:j]
					}
					return text[:i+1], true, rest
				}
			}
		}
		return text, true, ""
	}
	depth := 0
	for _, r := range text {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ';', '{', '=':
			if depth <= 0 {
				return b.String(), false, ""
			}
		}
		b.WriteRune(r)
	}
	return b.String(), false, ""
}

// target finds what a doc block documents. known reports whether an identifier names a thing
// of the wanted kind; for variables the last matching identifier wins (the declarator follows
// its type), for functions the first (macros like BPF_PROG(name, ...) put it first).
func (b docBlock) target(known func(string) bool, last bool) string {
	text := b.decl
	if b.mapDef {
		text = b.after
	}
	found := ""
	for _, id := range identRE.FindAllString(text, -1) {
		if known(id) {
			if !last {
				return id
			}
			found = id
		}
	}
	return found
}
