package decode

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MetricKinds are the values of the member hint metric=, which says how runner/metrics
// exports a value field of a sampled map: "gauge" (the default for integers and floats),
// "counter" (the value only grows) or "off".
var MetricKinds = []string{"gauge", "counter", "off"}

// hintPrefix marks the decl tags decode reads; other tags are ignored.
const hintPrefix = "ecli:"

// hints are the parsed display hints of one struct/union member.
type hints struct {
	raw    []string // without prefix, BTF order
	name   string
	hasFmt bool
	fmt    fmtSpec
	fmtIf  string  // fmt_if=GLOBAL:FMT: the bool global that switches to fmtAlt
	fmtAlt fmtSpec // the alternate cell format
	order  int
	hasOrd bool
	hide   bool
	show   string
	sep    string // sep=TEXT: what follows the cell instead of one space
	hasSep bool
	sel    string
	cases  []string
	format string // "ipv4", "ipv6", "hex", "cstring", "flags", "enum", "argv", "signal", "wstatus", "file" (file=PATH)
	file   string // file=PATH: the file shown instead of the member's bytes
	quote  string // quote=GLOBAL: format=argv quotes each string when the bool is true
	match  string // match=GLOBAL: events pass only if the text matches the regex in GLOBAL
	length string // len=MEMBER: a sibling integer holding how many bytes of a char array are set
	mapped []mapEntry
	div    float64
	rel    bool

	// cell affixes (affix.go)
	empty        string // empty=TEXT: text of an empty string
	hasEmpty     bool
	above        int64 // above=N: text cell empty unless the value is > N
	hasAbove     bool
	suffix       string  // suffix=MEMBER: the sibling appended to this cell
	hasSuffixFmt bool    // suffix_fmt=TEXT%vTEXT: how the sibling is formatted
	suffixSpec   fmtSpec // (parsed as fmt=, literal text included)
}

type mapEntry struct {
	val  int64
	text string
}

// hintArg says whether a member hint takes a value.
type hintArg uint8

const (
	argNone     hintArg = iota // ecli:KEY
	argRequired                // ecli:KEY=VALUE, VALUE not empty
	argAny                     // either (the hint is refused whatever it carries)
)

// memberHint is one kind of member hint: its argument, whether it is only valid on a
// top-level member (a column), and how it is stored. set's error is the reason the hint is
// bad, without the member or the hint. fmt, sep and hide are also valid on the members of a
// nested struct or union arm, which then renders as a template (see appendTemplate).
type memberHint struct {
	arg    hintArg
	column bool
	set    func(h *hints, val string) error
}

// memberHints are the hints a struct or union member may carry, by key.
var memberHints = map[string]memberHint{
	"name": {arg: argRequired, set: func(h *hints, v string) error { h.name = v; return nil }},
	"fmt": {arg: argRequired, set: func(h *hints, v string) (err error) {
		h.fmt, err = parseFmt(v)
		h.hasFmt = true
		return err
	}},
	"fmt_if": {arg: argRequired, column: true, set: func(h *hints, v string) (err error) {
		global, f, ok := strings.Cut(v, ":")
		if !ok || !isIdent(global) {
			return errors.New("want GLOBAL:%[-][width][.prec]verb")
		}
		h.fmtIf = global
		h.fmtAlt, err = parseFmt(f)
		return err
	}},
	"order": {arg: argRequired, column: true, set: func(h *hints, v string) error {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return errors.New("not an integer")
		}
		h.order, h.hasOrd = int(n), true
		return nil
	}},
	"hide": {arg: argNone, set: func(h *hints, _ string) error { h.hide = true; return nil }},
	"show": {arg: argRequired, column: true, set: func(h *hints, v string) error {
		if _, err := parseCond(v); err != nil {
			return err
		}
		h.show = v
		return nil
	}},
	// sep may be empty (sep=): the next cell follows with nothing in between.
	"sep":    {arg: argAny, set: func(h *hints, v string) error { h.sep, h.hasSep = v, true; return nil }},
	"select": {arg: argRequired, set: func(h *hints, v string) error { h.sel = v; return nil }},
	"case":   {arg: argRequired, set: func(h *hints, v string) error { h.cases = strings.Split(v, ","); return nil }},
	"format": {arg: argRequired, set: func(h *hints, v string) error {
		switch v {
		case "ipv4", "ipv6", "hex", "cstring", "flags", "enum", "argv", "signal", "wstatus":
			if h.format != "" {
				return errors.New("cannot be combined with file=")
			}
			h.format = v
			return nil
		}
		return errors.New("want ipv4, ipv6, hex, cstring, flags, enum, argv, signal or wstatus")
	}},
	"quote": {arg: argRequired, set: func(h *hints, v string) error { return setIdent(&h.quote, v, "a bool global") }},
	"match": {arg: argRequired, column: true, set: func(h *hints, v string) error { return setIdent(&h.match, v, "a char[] global") }},
	"len":   {arg: argRequired, set: func(h *hints, v string) error { return setIdent(&h.length, v, "a sibling member") }},
	"map": {arg: argRequired, set: func(h *hints, v string) (err error) {
		h.mapped, err = parseMap(v)
		return err
	}},
	"div": {arg: argRequired, set: func(h *hints, v string) error {
		d, err := strconv.ParseFloat(v, 64)
		if err != nil || d == 0 || math.IsNaN(d) || math.IsInf(d, 0) {
			return errors.New("want a non-zero number")
		}
		h.div = d
		return nil
	}},
	// file=PATH renders a file of /proc read when the line is printed (bcc's oomkill
	// loadavg) instead of the member's bytes.
	"file": {arg: argRequired, set: func(h *hints, v string) error {
		if !strings.HasPrefix(v, FilePrefix) || strings.Contains(v, "/../") || strings.HasSuffix(v, "/..") {
			return fmt.Errorf("want a path under %s", FilePrefix)
		}
		if h.format != "" {
			return errors.New("cannot be combined with format=")
		}
		h.format, h.file = "file", v
		return nil
	}},
	"rel":   {arg: argNone, set: func(h *hints, _ string) error { h.rel = true; return nil }},
	"empty": {arg: argRequired, set: func(h *hints, v string) error { h.empty, h.hasEmpty = v, true; return nil }},
	"above": {arg: argRequired, set: func(h *hints, v string) (err error) {
		h.above, err = parseInt(v)
		h.hasAbove = true
		return err
	}},
	"suffix": {arg: argRequired, column: true, set: func(h *hints, v string) error {
		if !isIdent(v) {
			return errors.New("want the name of a sibling member")
		}
		h.suffix = v
		return nil
	}},
	"suffix_fmt": {arg: argRequired, column: true, set: func(h *hints, v string) (err error) {
		h.suffixSpec, err = parseFmt(v)
		h.hasSuffixFmt = true
		return err
	}},
	// unit is informational: kept in Field.Hints for ecli inspect.
	"unit": {arg: argRequired, set: func(*hints, string) error { return nil }},
	// metric is read by runner/metrics from Field.Hints: how a value field is exported.
	"metric": {arg: argRequired, set: func(_ *hints, v string) error {
		if !slices.Contains(MetricKinds, v) {
			return fmt.Errorf("want one of %s", strings.Join(MetricKinds, ", "))
		}
		return nil
	}},
	// hist=total|count marks a histogram value's sum and count of the values counted
	// (read by Histogram from Field.Hints: bcc's extended summary line).
	"hist": {arg: argRequired, column: true, set: func(_ *hints, v string) error {
		if v != histTotal && v != histCount {
			return errors.New("want total or count")
		}
		return nil
	}},
	"time": {arg: argAny, set: func(*hints, string) error { return errors.New("only valid on the struct itself") }},
	// stack= and task= mark the fields of a stack-count entry (stacks.go); they are kept in
	// Field.Hints and read by NewStackCounts.
	"stack": {arg: argRequired, column: true, set: func(_ *hints, v string) error { _, err := parseStackHint(v); return err }},
	"task": {arg: argRequired, column: true, set: func(_ *hints, v string) error {
		if v != "comm" && v != "pid" {
			return errors.New("want comm or pid")
		}
		return nil
	}},
}

// parseMemberHints parses the ecli: tags of a member. what names the member for errors.
func parseMemberHints(tags []string, what string) (*hints, error) {
	h := &hints{}
	seen := map[string]bool{}
	for _, tag := range tags {
		body, ok := strings.CutPrefix(tag, hintPrefix)
		if !ok {
			continue
		}
		key, val, hasVal := strings.Cut(body, "=")
		bad := func(why string) error {
			return fmt.Errorf("%s: hint %q: %s: %w", what, tag, why, ErrBadHint)
		}
		if seen[key] {
			return nil, bad("given twice")
		}
		seen[key] = true
		mh, ok := memberHints[key]
		switch {
		case !ok:
			return nil, bad("unknown hint")
		case mh.arg == argRequired && (!hasVal || val == ""):
			return nil, bad("needs a value")
		case mh.arg == argNone && hasVal:
			return nil, bad("takes no value")
		case key == "sep" && !hasVal:
			return nil, bad("needs =TEXT (sep= for none)")
		}
		if err := mh.set(h, val); err != nil {
			return nil, bad(err.Error())
		}
		h.raw = append(h.raw, body)
	}
	switch {
	case h.quote != "" && h.format != "argv":
		return nil, fmt.Errorf("%s: quote= needs format=argv: %w", what, ErrBadHint)
	case h.format != "" && (h.mapped != nil || h.div != 0 || h.rel):
		return nil, fmt.Errorf("%s: format= cannot be combined with map=, div= or rel: %w", what, ErrBadHint)
	case h.mapped != nil && (h.div != 0 || h.rel):
		return nil, fmt.Errorf("%s: map= cannot be combined with div= or rel: %w", what, ErrBadHint)
	}
	return h, nil
}

// setIdent stores v in dst when it is a C identifier; want names what it must name.
func setIdent(dst *string, v, want string) error {
	if !isIdent(v) {
		return fmt.Errorf("want the name of %s", want)
	}
	*dst = v
	return nil
}

// any reports whether h holds at least one hint.
func (h *hints) any() bool { return len(h.raw) > 0 }

// clockHints are the struct hints of a hinted plan: the wall-clock TIME column and CSV.
type clockHints struct {
	off    bool    // time=off
	show   string  // time=GLOBAL[,GLOBAL…]: shown only when one of the bool globals is true
	spec   fmtSpec // time_fmt=%-Ns: cell and header width (default: 8 wide, one space after)
	hasFmt bool
	name   string // time_name=TEXT: header (default TIME); %Z is the zone (UTC or local)
	prec   int    // time_prec=N: digits of fractional seconds (0-9)
	utc    string // time_utc=GLOBAL: UTC instead of local time when the bool global is true
	csv    string // csv=GLOBAL: comma-separated cells when the bool global is true
	header string // header=TEXT: the text header line instead of the column names
}

// structHintKeys lists the struct hints for error messages.
const structHintKeys = "time=, time_fmt=, time_name=, time_prec=, time_utc=, header= or csv="

// parseStructHints parses the ecli: tags on the exported struct itself; n counts them.
func parseStructHints(tags []string, what string) (ch clockHints, n int, err error) {
	for _, tag := range tags {
		body, ok := strings.CutPrefix(tag, hintPrefix)
		if !ok {
			continue
		}
		n++
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s: hint %q: %s: %w", what, tag, fmt.Sprintf(format, args...), ErrBadHint)
		}
		key, val, _ := strings.Cut(body, "=")
		if strings.HasPrefix(key, "stack_") {
			// stack-count layout hints: checked by NewStackCounts (stacks.go).
			if _, ok := stackLayoutHints[key]; !ok || val == "" {
				return ch, 0, bad("unknown stack layout hint (want %s)", strings.Join(stackLayoutKeys(), ", "))
			}
			continue
		}
		if val == "" {
			return ch, 0, bad("unknown struct hint (want %s)", structHintKeys)
		}
		switch key {
		case "time":
			switch val {
			case "off":
				ch.off = true
			case "on":
			default:
				for _, g := range strings.Split(val, ",") {
					if !isIdent(g) {
						return ch, 0, bad("want off, on or the names of bool globals (G1,G2: shown when any is true)")
					}
				}
				ch.show = val
			}
		case "time_fmt":
			spec, err := parseFmt(val)
			if err != nil || spec.verb != 's' || spec.literal() {
				return ch, 0, bad("want %%[-][width]s")
			}
			ch.spec, ch.hasFmt = spec, true
		case "time_name":
			ch.name = val
		case "time_prec":
			p, err := strconv.Atoi(val)
			if err != nil || p < 0 || p > 9 {
				return ch, 0, bad("want 0 to 9 digits")
			}
			ch.prec = p
		case "header":
			ch.header = val
		case "time_utc":
			if !isIdent(val) {
				return ch, 0, bad("want the name of a bool global")
			}
			ch.utc = val
		case "csv":
			if !isIdent(val) {
				return ch, 0, bad("want the name of a bool global")
			}
			ch.csv = val
		default:
			return ch, 0, bad("unknown struct hint (want %s)", structHintKeys)
		}
	}
	return ch, n, nil
}

// isIdent reports whether s is a C identifier.
func isIdent(s string) bool {
	for i, r := range s {
		if r != '_' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func parseMap(val string) ([]mapEntry, error) {
	var out []mapEntry
	for _, pair := range strings.Split(val, ",") {
		k, v, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("entry %q: want VALUE:TEXT", pair)
		}
		n, err := parseInt(k)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", pair, err)
		}
		out = append(out, mapEntry{n, v})
	}
	return out, nil
}

// parseInt parses a decimal, 0x hex or negative integer; values up to MaxUint64 wrap.
func parseInt(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return n, nil
	}
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return int64(u), nil
}

// fmtSpec is a parsed restricted printf conversion, [pre]%[-][width][.prec]verb[post], with
// literal text around it (%% for a percent sign).
type fmtSpec struct {
	verb  byte // 0: none (default rendering), else d u x o s f
	left  bool
	width int
	prec  int    // -1: none
	pre   string // literal text before the value
	post  string // literal text after the value
}

const maxWidth = 1024

// parseFmt parses a fmt= hint: one printf conversion, optionally with literal text before
// and after it ("mount(%s", ":%d", "%1s>").
func parseFmt(s string) (fmtSpec, error) {
	f := fmtSpec{prec: -1}
	at := -1
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			i++
			continue
		}
		if at >= 0 {
			return f, fmt.Errorf("want one conversion %%[-][width][.prec]verb, found two")
		}
		at = i
	}
	if at < 0 {
		return f, fmt.Errorf("want %%[-][width][.prec]verb")
	}
	i := at + 1
	if i < len(s) && s[i] == '-' {
		f.left = true
		i++
	}
	num := func() (int, bool) {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if j == i {
			return 0, false
		}
		n, err := strconv.Atoi(s[j:i])
		if err != nil || n > maxWidth {
			return 0, false
		}
		return n, true
	}
	if i < len(s) && s[i] >= '1' && s[i] <= '9' {
		n, ok := num()
		if !ok {
			return f, fmt.Errorf("width above %d", maxWidth)
		}
		f.width = n
	}
	if i < len(s) && s[i] == '.' {
		i++
		n, ok := num()
		if !ok {
			return f, fmt.Errorf("bad precision")
		}
		f.prec = n
	}
	if i >= len(s) {
		return f, fmt.Errorf("want %%[-][width][.prec]verb with one verb of d u x o s f")
	}
	switch s[i] {
	case 'd', 'u', 'x', 'o', 's', 'f':
		f.verb = s[i]
	default:
		return f, fmt.Errorf("verb %q: want one of d u x o s f", s[i])
	}
	f.pre = strings.ReplaceAll(s[:at], "%%", "%")
	f.post = strings.ReplaceAll(s[i+1:], "%%", "%")
	return f, nil
}

// literal reports whether the conversion has text around it.
func (f fmtSpec) literal() bool { return f.pre != "" || f.post != "" }

// cond is a show= condition: bool globals that must all be true, a leading ! negating one
// (show=targ_latency&!targ_ms).
// cond is a show= condition: alternatives joined by "|", each a conjunction of terms
// joined by "&", each term a bool global, "!" negating it. It holds when one alternative
// holds.
type cond [][]condTerm

type condTerm struct {
	name string
	neg  bool
}

func parseCond(s string) (cond, error) {
	var c cond
	for _, alt := range strings.Split(s, "|") {
		var conj []condTerm
		for _, t := range strings.Split(alt, "&") {
			name, neg := strings.CutPrefix(t, "!")
			if !isIdent(name) {
				return nil, fmt.Errorf("want GLOBAL, !GLOBAL, GLOBAL&!GLOBAL... or alternatives of those joined by | (bool globals), not %q", t)
			}
			conj = append(conj, condTerm{name, neg})
		}
		c = append(c, conj)
	}
	return c, nil
}

// holds evaluates c with flag (nil: every global false).
func (c cond) holds(flag func(string) bool) bool {
	for _, conj := range c {
		all := true
		for _, t := range conj {
			if v := flag != nil && flag(t.name); v == t.neg {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
